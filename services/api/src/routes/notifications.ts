// Notification channels (admins): where coffre tells people that a backup failed, a restore ended, a
// configuration is overdue or a disk fills up. Secrets go in and never come out: answers show them masked.
import { z } from 'zod';
import {
  channelInputSchema,
  channelSchema,
  channelToApi,
  channelUpdateSchema,
  createChannel,
  deleteChannel,
  deliveryListQuerySchema,
  deliverySchema,
  getChannel,
  listChannels,
  listDeliveries,
  testChannel,
  updateChannel,
  type AppContext,
} from '@coffre/shared';
import { actorOf } from '../http/auth.js';
import { idParams, pageOf, type Api } from '../http/routes.js';

export function notificationRoutes(api: Api, ctx: AppContext): void {
  const tag = 'notifications';
  api.route({
    method: 'get',
    path: '/api/notification-channels',
    summary: 'Notification channels (secrets masked)',
    tag,
    access: 'admin',
    responses: { 200: { description: 'Every channel.', schema: z.object({ items: z.array(channelSchema) }) } },
    handler: async (_req, res) => {
      res.json({ items: (await listChannels(ctx)).map(channelToApi) });
    },
  });
  api.route({
    method: 'post',
    path: '/api/notification-channels',
    summary: 'Add a channel: a signed webhook, Slack, Discord or email over SMTP',
    tag,
    access: 'admin',
    body: channelInputSchema,
    responses: { 201: { description: 'The channel.', schema: channelSchema }, 409: { description: 'The name is taken.' } },
    handler: async (req, res) => {
      const channel = await createChannel(ctx, req.body, actorOf(req));
      res.status(201).location(`/api/notification-channels/${channel.id}`).json(channelToApi(channel));
    },
  });
  api.route({
    method: 'get',
    path: '/api/notification-channels/:id',
    summary: 'One channel (secrets masked)',
    tag,
    access: 'admin',
    params: idParams,
    responses: { 200: { description: 'The channel.', schema: channelSchema }, 404: { description: 'No such channel.' } },
    handler: async (req, res) => {
      res.json(channelToApi(await getChannel(ctx, String(req.params.id))));
    },
  });
  api.route({
    method: 'put',
    path: '/api/notification-channels/:id',
    summary: 'Change a channel (a secret left out stays as it is)',
    tag,
    access: 'admin',
    params: idParams,
    body: channelUpdateSchema,
    responses: { 200: { description: 'The channel.', schema: channelSchema }, 404: { description: 'No such channel.' } },
    handler: async (req, res) => {
      res.json(channelToApi(await updateChannel(ctx, String(req.params.id), req.body, actorOf(req))));
    },
  });
  api.route({
    method: 'delete',
    path: '/api/notification-channels/:id',
    summary: 'Remove a channel and its delivery history',
    tag,
    access: 'admin',
    params: idParams,
    responses: { 204: { description: 'Removed.' }, 404: { description: 'No such channel.' } },
    handler: async (req, res) => {
      await deleteChannel(ctx, String(req.params.id), actorOf(req));
      res.status(204).end();
    },
  });
  api.route({
    method: 'post',
    path: '/api/notification-channels/:id/test',
    summary: 'Send a test notification now and answer with the delivery (ok or the error)',
    tag,
    access: 'admin',
    params: idParams,
    responses: { 200: { description: 'The delivery and its attempt.', schema: deliverySchema }, 404: { description: 'No such channel.' } },
    handler: async (req, res) => {
      res.json(await testChannel(ctx, String(req.params.id), actorOf(req)));
    },
  });
  api.route({
    method: 'get',
    path: '/api/notification-channels/:id/deliveries',
    summary: 'Deliveries to a channel, newest first, with every attempt',
    tag,
    access: 'admin',
    params: idParams,
    query: deliveryListQuerySchema,
    responses: { 200: { description: 'A page of deliveries.', schema: pageOf(deliverySchema, 'NotificationDeliveryPage') }, 404: { description: 'No such channel.' } },
    handler: async (req, res) => {
      res.json(await listDeliveries(ctx, String(req.params.id), req.query));
    },
  });
}
