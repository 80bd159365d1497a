// A route is declared once: method, path, role and the zod schemas of its input and output. The
// declaration mounts the Express handler and registers the OpenAPI path, so that the published
// document cannot drift from what the code accepts.
import type { Request, RequestHandler, Response, Router } from 'express';
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { requireRole } from './auth.js';

export type Access = 'public' | 'viewer' | 'operator' | 'admin';

export interface RouteSpec {
  method: 'get' | 'post' | 'put' | 'delete';
  /** Express path, e.g. /api/backups/:id */
  path: string;
  summary: string;
  tag: string;
  access: Access;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
  handler: (req: Request, res: Response) => Promise<void> | void;
}

export const errorSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }) })
  .meta({ id: 'Error' });

export function pageOf<T extends z.ZodType>(item: T, id: string) {
  return z.object({ items: z.array(item), total: z.number(), page: z.number(), pageSize: z.number() }).meta({ id });
}

export const idParams = z.object({ id: z.string().uuid() });

export class Api {
  constructor(
    private readonly router: Router,
    readonly registry: OpenAPIRegistry,
  ) {}

  static registry(): OpenAPIRegistry {
    const registry = new OpenAPIRegistry();
    registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
    return registry;
  }

  route(spec: RouteSpec): void {
    const guards: RequestHandler[] = spec.access === 'public' ? [] : [requireRole(spec.access)];
    this.router[spec.method](spec.path, ...guards, async (req, res) => {
      await spec.handler(req, res);
    });
    const responses: Record<string, { description: string; content?: Record<string, { schema: z.ZodType }> }> = {};
    for (const [status, response] of Object.entries(spec.responses)) {
      responses[status] = {
        description: response.description,
        ...(response.schema ? { content: { [response.contentType ?? 'application/json']: { schema: response.schema } } } : {}),
      };
    }
    for (const status of spec.access === 'public' ? [] : ['401', '403']) {
      responses[status] ??= {
        description: status === '401' ? 'Not authenticated.' : 'The role does not allow this.',
        content: { 'application/json': { schema: errorSchema } },
      };
    }
    responses['400'] ??= { description: 'Invalid input: a sentence names the field.', content: { 'application/json': { schema: errorSchema } } };
    this.registry.registerPath({
      method: spec.method,
      path: spec.path.replace(/:(\w+)/g, '{$1}'),
      summary: spec.summary,
      tags: [spec.tag],
      security: spec.access === 'public' ? [] : [{ bearer: [] }],
      description: spec.access === 'public' ? 'No authentication.' : `Needs the ${spec.access} role or higher.`,
      request: {
        ...(spec.params ? { params: spec.params } : {}),
        ...(spec.query ? { query: spec.query } : {}),
        ...(spec.body ? { body: { content: { 'application/json': { schema: spec.body } } } } : {}),
      },
      responses,
    });
  }

  /** Mounts a middleware (static files) on the authenticated router without documenting it. */
  static(path: string, handler: RequestHandler): void {
    this.router.use(path, handler);
  }

  document(version: string): object {
    return new OpenApiGeneratorV31(this.registry.definitions).generateDocument({
      openapi: '3.1.0',
      info: {
        title: 'coffre API',
        version,
        description:
          'Backups of PostgreSQL databases, the files beside them and S3 buckets. Errors are {"error":{"code","message"}}. ' +
          'Authenticate with Authorization: Bearer <token>, or the web UI session cookie plus the X-CSRF-Token header.',
      },
    });
  }
}
