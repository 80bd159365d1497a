import { z } from 'zod';
import {
  createSource,
  deleteSource,
  getSource,
  listSources,
  sourceInputSchema,
  sourceSchema,
  sourceToApi,
  sourceUpdateSchema,
  testSource,
  updateSource,
  uuidParam,
  NotFoundError,
  type AppContext,
} from '@coffre/shared';
import { actorOf } from '../http/auth.js';
import { idParams, type Api } from '../http/routes.js';

export function sourceRoutes(api: Api, ctx: AppContext): void {
  const id = (raw: unknown) => {
    const value = String(raw);
    if (!uuidParam.safeParse(value).success) throw new NotFoundError(`Source ${value.slice(0, 60)}`);
    return value;
  };
  api.route({
    method: 'get',
    path: '/api/sources',
    summary: 'The sources (URLs shown with the password masked)',
    tag: 'sources',
    access: 'viewer',
    responses: { 200: { description: 'Every source.', schema: z.object({ items: z.array(sourceSchema) }) } },
    handler: async (_req, res) => {
      res.json({ items: (await listSources(ctx)).map(sourceToApi) });
    },
  });
  api.route({
    method: 'post',
    path: '/api/sources',
    summary: 'Register a source database',
    tag: 'sources',
    access: 'admin',
    body: sourceInputSchema,
    responses: { 201: { description: 'The source.', schema: sourceSchema }, 409: { description: 'The name is taken.' } },
    handler: async (req, res) => {
      const source = await createSource(ctx, req.body ?? {}, actorOf(req));
      res.status(201).location(`/api/sources/${source.id}`).json(sourceToApi(source));
    },
  });
  api.route({
    method: 'get',
    path: '/api/sources/:id',
    summary: 'One source',
    tag: 'sources',
    access: 'viewer',
    params: idParams,
    responses: { 200: { description: 'The source.', schema: sourceSchema }, 404: { description: 'No such source.' } },
    handler: async (req, res) => {
      res.json(sourceToApi(await getSource(ctx, id(req.params.id))));
    },
  });
  api.route({
    method: 'put',
    path: '/api/sources/:id',
    summary: 'Rename a source or change its URL',
    tag: 'sources',
    access: 'admin',
    params: idParams,
    body: sourceUpdateSchema,
    responses: { 200: { description: 'The source.', schema: sourceSchema }, 404: { description: 'No such source.' } },
    handler: async (req, res) => {
      res.json(sourceToApi(await updateSource(ctx, id(req.params.id), req.body ?? {}, actorOf(req))));
    },
  });
  api.route({
    method: 'delete',
    path: '/api/sources/:id',
    summary: 'Remove a source (its backups stay in the history)',
    tag: 'sources',
    access: 'admin',
    params: idParams,
    responses: { 204: { description: 'Removed.' }, 409: { description: 'Configurations or running backups use it.' } },
    handler: async (req, res) => {
      await deleteSource(ctx, id(req.params.id), actorOf(req));
      res.status(204).end();
    },
  });
  api.route({
    method: 'post',
    path: '/api/sources/:id/test',
    summary: 'Try to connect to a source and report its server version',
    tag: 'sources',
    access: 'operator',
    params: idParams,
    responses: {
      200: { description: 'The outcome.', schema: z.object({ ok: z.boolean(), serverVersion: z.string().optional(), message: z.string() }) },
    },
    handler: async (req, res) => {
      res.json(await testSource(ctx, id(req.params.id)));
    },
  });
}
