// Notification channels (admins): where coffre tells people that a backup failed, a restore ended, a
// configuration is overdue or a disk fills up. Secrets go in and never come out: answers show them masked.
import {
  channelToApi,
  createChannel,
  deleteChannel,
  getChannel,
  listChannels,
  listDeliveries,
  recentDeliveries,
  testChannel,
  updateChannel,
  type AppContext,
} from '@coffre/shared';
import type { Api } from '../http/routes.js';

export function notificationRoutes(api: Api, ctx: AppContext): void {
  api.route('channels.list', async () => {
    const channels = await listChannels(ctx);
    const health = await recentDeliveries(ctx, channels.map((c) => c.id));
    return { items: channels.map((c) => ({ ...channelToApi(c), recentDeliveries: health.get(c.id) })) };
  });
  api.route('channels.create', async ({ body }, { actor }) => channelToApi(await createChannel(ctx, body, actor)));
  api.route('channels.get', async ({ params }) => channelToApi(await getChannel(ctx, params.id)));
  api.route('channels.update', async ({ params, body }, { actor }) => channelToApi(await updateChannel(ctx, params.id, body, actor)));
  api.route('channels.delete', ({ params }, { actor }) => deleteChannel(ctx, params.id, actor));
  api.route('channels.test', ({ params }, { actor }) => testChannel(ctx, params.id, actor));
  api.route('channels.deliveries', ({ params, query }) => listDeliveries(ctx, params.id, query));
}
