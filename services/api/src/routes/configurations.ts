import {
  backupToApi,
  createConfiguration,
  deleteConfiguration,
  duplicateConfiguration,
  getConfiguration,
  listConfigurations,
  runConfigurationNow,
  setConfigurationActive,
  updateConfiguration,
  type AppContext,
} from '@coffre/shared';
import type { Api } from '../http/routes.js';

export function configurationRoutes(api: Api, ctx: AppContext): void {
  api.route('configurations.list', async () => ({ items: await listConfigurations(ctx) }));
  api.route('configurations.create', ({ body }, { actor }) => createConfiguration(ctx, body, actor));
  api.route('configurations.get', ({ params }) => getConfiguration(ctx, params.id));
  api.route('configurations.update', ({ params, body }, { actor }) => updateConfiguration(ctx, params.id, body, actor));
  api.route('configurations.delete', ({ params }, { actor }) => deleteConfiguration(ctx, params.id, actor));
  api.route('configurations.activate', ({ params }, { actor }) => setConfigurationActive(ctx, params.id, true, actor));
  api.route('configurations.deactivate', ({ params }, { actor }) => setConfigurationActive(ctx, params.id, false, actor));
  api.route('configurations.run', async ({ params }, { actor }) => backupToApi(await runConfigurationNow(ctx, params.id, actor)));
  api.route('configurations.duplicate', ({ params }, { actor }) => duplicateConfiguration(ctx, params.id, actor));
}
