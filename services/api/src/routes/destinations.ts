import { z } from 'zod';
import {
  createDestination,
  deleteDestination,
  destinationInputSchema,
  destinationSchema,
  destinationToApi,
  destinationUpdateSchema,
  getDestination,
  listDestinations,
  systemReport,
  testDestination,
  updateDestination,
  type AppContext,
} from '@coffre/shared';
import { actorOf } from '../http/auth.js';
import { idParams, type Api } from '../http/routes.js';

const usage = z.object({ totalBytes: z.number(), freeBytes: z.number(), usedPercent: z.number(), warning: z.boolean() });
const systemSchema = z
  .object({
    backupDir: z.string(),
    warning: z.boolean().describe('a local destination is more than 80 % full'),
    destinations: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        kind: z.enum(['local', 's3']),
        location: z.string(),
        bytesStored: z.number(),
        artifacts: z.number(),
        usage: usage.nullable(),
        error: z.string().optional(),
      }),
    ),
  })
  .meta({ id: 'System' });

export function destinationRoutes(api: Api, ctx: AppContext): void {
  api.route({
    method: 'get',
    path: '/api/destinations',
    summary: 'Where artifacts are written (credentials never shown)',
    tag: 'destinations',
    access: 'viewer',
    responses: { 200: { description: 'Every destination.', schema: z.object({ items: z.array(destinationSchema) }) } },
    handler: async (_req, res) => {
      res.json({ items: (await listDestinations(ctx)).map(destinationToApi) });
    },
  });
  api.route({
    method: 'post',
    path: '/api/destinations',
    summary: 'Add a destination: a local directory or an S3-compatible bucket',
    tag: 'destinations',
    access: 'admin',
    body: destinationInputSchema,
    responses: { 201: { description: 'The destination.', schema: destinationSchema }, 409: { description: 'The name is taken.' } },
    handler: async (req, res) => {
      const destination = await createDestination(ctx, req.body ?? {}, actorOf(req));
      res.status(201).location(`/api/destinations/${destination.id}`).json(destinationToApi(destination));
    },
  });
  api.route({
    method: 'get',
    path: '/api/destinations/:id',
    summary: 'One destination',
    tag: 'destinations',
    access: 'viewer',
    params: idParams,
    responses: { 200: { description: 'The destination.', schema: destinationSchema }, 404: { description: 'No such destination.' } },
    handler: async (req, res) => {
      res.json(destinationToApi(await getDestination(ctx, String(req.params.id))));
    },
  });
  api.route({
    method: 'put',
    path: '/api/destinations/:id',
    summary: 'Change a destination (credentials are replaced only when given)',
    tag: 'destinations',
    access: 'admin',
    params: idParams,
    body: destinationUpdateSchema,
    responses: { 200: { description: 'The destination.', schema: destinationSchema } },
    handler: async (req, res) => {
      res.json(destinationToApi(await updateDestination(ctx, String(req.params.id), req.body ?? {}, actorOf(req))));
    },
  });
  api.route({
    method: 'delete',
    path: '/api/destinations/:id',
    summary: 'Remove a destination that holds no artifacts',
    tag: 'destinations',
    access: 'admin',
    params: idParams,
    responses: { 204: { description: 'Removed.' }, 409: { description: 'It still holds artifacts or is used by configurations.' } },
    handler: async (req, res) => {
      await deleteDestination(ctx, String(req.params.id), actorOf(req));
      res.status(204).end();
    },
  });
  api.route({
    method: 'post',
    path: '/api/destinations/:id/test',
    summary: 'Check that a destination can be written',
    tag: 'destinations',
    access: 'operator',
    params: idParams,
    responses: { 200: { description: 'The outcome.', schema: z.object({ ok: z.boolean(), message: z.string() }) } },
    handler: async (req, res) => {
      res.json(await testDestination(ctx, String(req.params.id)));
    },
  });
  api.route({
    method: 'get',
    path: '/api/system',
    summary: 'The backup directory, disk usage of local destinations (warning above 80 %), bytes stored per destination',
    tag: 'system',
    access: 'viewer',
    responses: { 200: { description: 'The report.', schema: systemSchema } },
    handler: async (_req, res) => {
      res.json(await systemReport(ctx));
    },
  });
}
