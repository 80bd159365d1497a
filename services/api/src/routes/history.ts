// Restores and verifications: read-only history of the runs.
import {
  getRestore,
  getVerification,
  listRestores,
  listVerifications,
  restoreListQuerySchema,
  restoreSchema,
  restoreToApi,
  verificationListQuerySchema,
  verificationSchema,
  verificationToApi,
  type AppContext,
} from '@coffre/shared';
import { idParams, pageOf, type Api } from '../http/routes.js';

export function historyRoutes(api: Api, ctx: AppContext): void {
  api.route({
    method: 'get',
    path: '/api/restores',
    summary: 'Restore history, newest first',
    tag: 'restores',
    access: 'viewer',
    query: restoreListQuerySchema,
    responses: { 200: { description: 'A page of restores.', schema: pageOf(restoreSchema, 'RestorePage') } },
    handler: async (req, res) => {
      res.json(await listRestores(ctx, req.query));
    },
  });
  api.route({
    method: 'get',
    path: '/api/restores/:id',
    summary: 'One restore, with its log excerpt',
    tag: 'restores',
    access: 'viewer',
    params: idParams,
    responses: { 200: { description: 'The restore.', schema: restoreSchema }, 404: { description: 'No such restore.' } },
    handler: async (req, res) => {
      res.json(restoreToApi(await getRestore(ctx, String(req.params.id)), { withLog: true }));
    },
  });
  api.route({
    method: 'get',
    path: '/api/verifications',
    summary: 'Verification history, newest first',
    tag: 'verifications',
    access: 'viewer',
    query: verificationListQuerySchema,
    responses: { 200: { description: 'A page of verifications.', schema: pageOf(verificationSchema, 'VerificationPage') } },
    handler: async (req, res) => {
      res.json(await listVerifications(ctx, req.query));
    },
  });
  api.route({
    method: 'get',
    path: '/api/verifications/:id',
    summary: 'One verification with its differences',
    tag: 'verifications',
    access: 'viewer',
    params: idParams,
    responses: { 200: { description: 'The verification.', schema: verificationSchema }, 404: { description: 'No such verification.' } },
    handler: async (req, res) => {
      res.json(verificationToApi(await getVerification(ctx, String(req.params.id))));
    },
  });
}
