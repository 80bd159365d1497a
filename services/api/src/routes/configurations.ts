import { z } from 'zod';
import {
  backupSchema,
  backupToApi,
  configurationCreateSchema,
  configurationUpdateSchema,
  configurationViewSchema,
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
import { actorOf } from '../http/auth.js';
import { idParams, type Api } from '../http/routes.js';

const detailsSchema = configurationViewSchema
  .extend({
    encrypted: z.boolean().describe('whether its backups are encrypted now: its own choice, or else the installation\'s'),
    sourceName: z.string(),
    overdue: z.boolean().describe('no backup completed within one interval of the schedule plus a grace (10 %, at least 5 min)'),
    overdueAt: z.string().nullable().describe('when it is, or became, overdue unless a backup completes before'),
    lastCompletedAt: z.string().nullable().describe('its newest completed backup whose artifacts are kept'),
    lastStatus: z.string().nullable(),
  })
  .meta({ id: 'ConfigurationDetails' });

export function configurationRoutes(api: Api, ctx: AppContext): void {
  api.route({
    method: 'get',
    path: '/api/configurations',
    summary: 'Backup configurations, with their schedule in words, next run and overdue state',
    tag: 'configurations',
    access: 'viewer',
    responses: { 200: { description: 'Every configuration.', schema: z.object({ items: z.array(detailsSchema) }) } },
    handler: async (_req, res) => {
      res.json({ items: await listConfigurations(ctx) });
    },
  });
  api.route({
    method: 'post',
    path: '/api/configurations',
    summary: 'Create a configuration (its scheduler starts when it is active and scheduled)',
    tag: 'configurations',
    access: 'admin',
    body: configurationCreateSchema,
    responses: { 201: { description: 'The configuration.', schema: detailsSchema }, 409: { description: 'The name is taken.' } },
    handler: async (req, res) => {
      const created = await createConfiguration(ctx, req.body ?? {}, actorOf(req));
      res.status(201).location(`/api/configurations/${created.id}`).json(created);
    },
  });
  api.route({
    method: 'get',
    path: '/api/configurations/:id',
    summary: 'One configuration',
    tag: 'configurations',
    access: 'viewer',
    params: idParams,
    responses: { 200: { description: 'The configuration.', schema: detailsSchema }, 404: { description: 'No such configuration.' } },
    handler: async (req, res) => {
      res.json(await getConfiguration(ctx, String(req.params.id)));
    },
  });
  api.route({
    method: 'put',
    path: '/api/configurations/:id',
    summary: 'Change a configuration (any subset of its fields)',
    tag: 'configurations',
    access: 'admin',
    params: idParams,
    body: configurationUpdateSchema,
    responses: { 200: { description: 'The configuration.', schema: detailsSchema }, 404: { description: 'No such configuration.' } },
    handler: async (req, res) => {
      res.json(await updateConfiguration(ctx, String(req.params.id), req.body ?? {}, actorOf(req)));
    },
  });
  api.route({
    method: 'delete',
    path: '/api/configurations/:id',
    summary: 'Delete a configuration and its schedulers (its backups stay)',
    tag: 'configurations',
    access: 'admin',
    params: idParams,
    responses: { 204: { description: 'Deleted.' }, 409: { description: 'Backups of it are running.' } },
    handler: async (req, res) => {
      await deleteConfiguration(ctx, String(req.params.id), actorOf(req));
      res.status(204).end();
    },
  });
  for (const active of [true, false]) {
    api.route({
      method: 'post',
      path: `/api/configurations/:id/${active ? 'activate' : 'deactivate'}`,
      summary: active ? 'Activate: its scheduler starts' : 'Deactivate: its scheduler stops',
      tag: 'configurations',
      access: 'operator',
      params: idParams,
      responses: { 200: { description: 'The configuration.', schema: detailsSchema } },
      handler: async (req, res) => {
        res.json(await setConfigurationActive(ctx, String(req.params.id), active, actorOf(req)));
      },
    });
  }
  api.route({
    method: 'post',
    path: '/api/configurations/:id/run',
    summary: 'Run now: a backup of this configuration',
    tag: 'configurations',
    access: 'operator',
    params: idParams,
    responses: { 202: { description: 'The backup, pending.', schema: backupSchema } },
    handler: async (req, res) => {
      const backup = await runConfigurationNow(ctx, String(req.params.id), actorOf(req));
      res.status(202).location(`/api/backups/${backup.id}`).json(backupToApi(backup));
    },
  });
  api.route({
    method: 'post',
    path: '/api/configurations/:id/duplicate',
    summary: 'Copy a configuration (the copy starts inactive)',
    tag: 'configurations',
    access: 'admin',
    params: idParams,
    responses: { 201: { description: 'The copy.', schema: detailsSchema } },
    handler: async (req, res) => {
      const copy = await duplicateConfiguration(ctx, String(req.params.id), actorOf(req));
      res.status(201).location(`/api/configurations/${copy.id}`).json(copy);
    },
  });
}
