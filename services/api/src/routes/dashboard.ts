// The dashboard's summary: is every source protected, and since when.
import { currentProtectionSummary, type AppContext } from '@coffre/shared';
import type { Api } from '../http/routes.js';

export function dashboardRoutes(api: Api, ctx: AppContext): void {
  api.route('dashboard.protection', () => currentProtectionSummary(ctx));
}
