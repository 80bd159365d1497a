// Sources and destinations: the same six routes each (list, create, get, update, delete, test), and
// the storage report.
import {
  createDestination,
  createSource,
  deleteDestination,
  deleteSource,
  destinationToApi,
  getDestination,
  getSource,
  listDestinations,
  listSources,
  sourceToApi,
  systemReport,
  testDestination,
  testSource,
  updateDestination,
  updateSource,
  type AppContext,
} from '@coffre/shared';
import type { Api } from '../http/routes.js';

export function sourceRoutes(api: Api, ctx: AppContext): void {
  api.route('sources.list', async () => ({ items: (await listSources(ctx)).map(sourceToApi) }));
  api.route('sources.create', async ({ body }, { actor }) => sourceToApi(await createSource(ctx, body, actor)));
  api.route('sources.get', async ({ params }) => sourceToApi(await getSource(ctx, params.id)));
  api.route('sources.update', async ({ params, body }, { actor }) => sourceToApi(await updateSource(ctx, params.id, body, actor)));
  api.route('sources.delete', ({ params }, { actor }) => deleteSource(ctx, params.id, actor));
  api.route('sources.test', ({ params }) => testSource(ctx, params.id));
}

export function destinationRoutes(api: Api, ctx: AppContext): void {
  api.route('destinations.list', async () => ({ items: (await listDestinations(ctx)).map(destinationToApi) }));
  api.route('destinations.create', async ({ body }, { actor }) => destinationToApi(await createDestination(ctx, body, actor)));
  api.route('destinations.get', async ({ params }) => destinationToApi(await getDestination(ctx, params.id)));
  api.route('destinations.update', async ({ params, body }, { actor }) => destinationToApi(await updateDestination(ctx, params.id, body, actor)));
  api.route('destinations.delete', ({ params }, { actor }) => deleteDestination(ctx, params.id, actor));
  api.route('destinations.test', ({ params }) => testDestination(ctx, params.id));
  api.route('system.get', () => systemReport(ctx));
}
