import { listAudit, type AppContext } from '@coffre/shared';
import type { Api } from '../http/routes.js';

export function auditRoutes(api: Api, ctx: AppContext): void {
  api.route('audit.list', ({ query }) => listAudit(ctx.db, query));
}
