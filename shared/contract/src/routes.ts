// The route table: every route of the API by name ("backups.list"), put together from the
// resources' own declarations. The names are what the API mounts handlers on and what the typed
// client calls.
import { auditRoutes } from './audit.js';
import { authRoutes, loginRoutes } from './auth.js';
import { backupRoutes } from './backups.js';
import { configurationRoutes } from './configurations.js';
import { dashboardRoutes } from './dashboard.js';
import { importRoutes } from './imports.js';
import { notificationRoutes } from './notifications.js';
import { operationRoutes } from './operations.js';
import { pitrRoutes } from './pitr.js';
import { runRoutes } from './runs.js';
import { ssoRoutes } from './sso.js';
import { storageRoutes } from './storage.js';

/** The documented API (the OpenAPI document lists exactly these). */
export const routes = {
  ...backupRoutes,
  ...importRoutes,
  ...runRoutes,
  ...storageRoutes,
  ...configurationRoutes,
  ...notificationRoutes,
  ...authRoutes,
  ...ssoRoutes,
  ...auditRoutes,
  ...operationRoutes,
  ...dashboardRoutes,
  ...pitrRoutes,
};

/** Every route a client may call: the documented API, and logging in and out. */
export const clientRoutes = { ...routes, ...loginRoutes };

export type Routes = typeof clientRoutes;
export type RouteName = keyof Routes;
export type DocumentedRouteName = keyof typeof routes;
