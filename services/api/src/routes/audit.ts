import { auditEventSchema, auditQuerySchema, listAudit, type AppContext } from '@coffre/shared';
import { pageOf, type Api } from '../http/routes.js';

export function auditRoutes(api: Api, ctx: AppContext): void {
  api.route({
    method: 'get',
    path: '/api/audit',
    summary: 'Audit events (who did what, when, from where), newest first',
    tag: 'audit',
    access: 'admin',
    query: auditQuerySchema,
    responses: { 200: { description: 'A page of events.', schema: pageOf(auditEventSchema, 'AuditPage') } },
    handler: async (req, res) => {
      res.json(await listAudit(ctx.db, req.query));
    },
  });
}
