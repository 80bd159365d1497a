// The web UI sessions of the caller (the current one marked), and ending one: anyone may end their
// own; admins may list and end everyone's.
import { ForbiddenError, endSessionById, listSessions, type AppContext } from '@coffre/shared';
import type { Api } from '../http/routes.js';

export function sessionRoutes(api: Api, ctx: AppContext): void {
  api.route('sessions.list', async ({ query }, { req, actor }) => {
    const all = query.all === 'true';
    if (all && actor.role !== 'admin') throw new ForbiddenError('Only admins may list everyone’s sessions; leave out all=true to list yours.');
    return { items: await listSessions(ctx.db, actor, { all, currentId: req.sessionId ?? null }) };
  });
  api.route('sessions.end', ({ params }, { actor }) => endSessionById(ctx, params.id, actor));
}
