// Route groups beyond the core ones; each feature adds its registrar here.
import type { AppContext } from '@coffre/shared';
import type { Api } from '../http/routes.js';
import { configurationRoutes } from './configurations.js';
import { destinationRoutes } from './sources.js';
import { notificationRoutes } from './notifications.js';
import { metricsRoutes } from './metrics.js';
import { sessionRoutes } from './sessions.js';
import { workerRoutes } from './workers.js';
import { dashboardRoutes } from './dashboard.js';
import { eventRoutes } from './events.js';
import { pitrRoutes } from './pitr.js';

export const extraRoutes: ((api: Api, ctx: AppContext) => void)[] = [configurationRoutes, destinationRoutes, notificationRoutes, metricsRoutes, sessionRoutes, workerRoutes, dashboardRoutes, eventRoutes, pitrRoutes];
