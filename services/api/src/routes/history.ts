// Restores and verifications: read-only history of the runs.
import { getRestore, getVerification, listRestores, listVerifications, restoreToApi, verificationToApi, type AppContext } from '@coffre/shared';
import type { Api } from '../http/routes.js';

export function historyRoutes(api: Api, ctx: AppContext): void {
  api.route('restores.list', ({ query }) => listRestores(ctx, query));
  api.route('restores.get', async ({ params }) => restoreToApi(await getRestore(ctx, params.id), { withLog: true }));
  api.route('verifications.list', ({ query }) => listVerifications(ctx, query));
  api.route('verifications.get', async ({ params }) => verificationToApi(await getVerification(ctx, params.id)));
}
