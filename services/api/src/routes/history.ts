// Restores and verifications: the history of the runs, and the undo of a restore that swapped.
import { expectedOfRestore, expectedOfVerification, getRestore, getVerification, listRestores, listVerifications, restoreToApi, undoRestore, verificationToApi, type AppContext } from '@coffre/shared';
import type { Api } from '../http/routes.js';

export function historyRoutes(api: Api, ctx: AppContext): void {
  api.route('restores.list', ({ query }) => listRestores(ctx, query));
  api.route('restores.get', async ({ params }) => {
    const restore = await getRestore(ctx, params.id);
    return { ...restoreToApi(restore, { withLog: true }), expected: await expectedOfRestore(ctx, restore) };
  });
  api.route('restores.undo', async ({ params }, { actor }) => restoreToApi(await undoRestore(ctx, params.id, actor), { withLog: true }));
  api.route('verifications.list', ({ query }) => listVerifications(ctx, query));
  api.route('verifications.get', async ({ params }) => {
    const verification = await getVerification(ctx, params.id);
    return { ...verificationToApi(verification), log: verification.log, expected: await expectedOfVerification(ctx, verification) };
  });
}
