// Point-in-time recovery of a source: its state and window, its requirements, on and off, and
// restores to a moment.
import { checkPitr, pitrState, pitrStateToApi, requestPitrRestore, restoreToApi, setPitr, type AppContext } from '@coffre/shared';
import type { Api } from '../http/routes.js';

export function pitrRoutes(api: Api, ctx: AppContext): void {
  api.route('pitr.get', async ({ params, query }) => pitrStateToApi(await pitrState(ctx, params.id, { checkStorage: query.checkStorage === 'true' })));
  api.route('pitr.check', ({ params }) => checkPitr(ctx, params.id));
  api.route('pitr.set', async ({ params, body }, { actor }) => pitrStateToApi(await setPitr(ctx, params.id, body.enabled, actor)));
  api.route('pitr.restore', async ({ params, body }, { actor }) => restoreToApi(await requestPitrRestore(ctx, params.id, body, actor)));
}
