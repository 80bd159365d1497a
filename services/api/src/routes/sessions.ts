// The web UI sessions of the caller (the current one marked), and ending one: anyone may end their
// own; admins may list and end everyone's.
import { z } from 'zod';
import { ForbiddenError, endSessionById, listSessions, parseInput, sessionListQuerySchema, sessionSchema, type AppContext } from '@coffre/shared';
import { actorOf } from '../http/auth.js';
import { idParams, type Api } from '../http/routes.js';

export function sessionRoutes(api: Api, ctx: AppContext): void {
  api.route({
    method: 'get',
    path: '/api/auth/sessions',
    summary: 'Your web UI sessions (the one of this request marked current); admins: ?all=true for everyone’s',
    tag: 'auth',
    access: 'viewer',
    query: sessionListQuerySchema,
    responses: { 200: { description: 'Open sessions, newest first.', schema: z.object({ items: z.array(sessionSchema) }).meta({ id: 'SessionList' }) } },
    handler: async (req, res) => {
      const actor = actorOf(req);
      const query = parseInput(sessionListQuerySchema, req.query ?? {});
      const all = query.all === 'true';
      if (all && actor.role !== 'admin') throw new ForbiddenError('Only admins may list everyone’s sessions; leave out all=true to list yours.');
      res.json({ items: await listSessions(ctx.db, actor, { all, currentId: req.sessionId ?? null }) });
    },
  });
  api.route({
    method: 'delete',
    path: '/api/auth/sessions/:id',
    summary: 'End a web UI session (your own; admins: anyone’s)',
    tag: 'auth',
    access: 'viewer',
    params: idParams,
    responses: { 204: { description: 'Ended: its cookie opens nothing any more.' }, 404: { description: 'No such session of yours.' } },
    handler: async (req, res) => {
      await endSessionById(ctx, String(req.params.id), actorOf(req));
      res.status(204).end();
    },
  });
}
