// Routes are declared once, in the contract (@coffre/contract: method, path, role, the schemas of
// params, query, body and answers). Api.route mounts a handler on a route of that table: it checks
// the role, validates params (a malformed id names nothing: 404), query and body (400, one sentence
// naming the field), hands the handler the parsed input, and sends what the handler returns with the
// route's success status (and, for what it creates, its Location). The same table generates the OpenAPI document, so that it cannot drift
// from what the code accepts.
import type { Request, RequestHandler, Response, Router } from 'express';
import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import {
  NotFoundError,
  ValidationError,
  errorSchema,
  parseInput,
  routes,
  successStatus,
  type Actor,
  type DocumentedRouteName,
  type ParsedInput,
  type Reply,
  type RouteDef,
} from '@coffre/shared';
import { actorOf, requireRole } from './auth.js';

/** What a handler is given beside its parsed input. */
export interface Call {
  req: Request;
  res: Response;
  /** The authenticated caller (routes that are not public). */
  readonly actor: Actor;
}

/**
 * Answers with the route's success status and the returned body (nothing for undefined), unless it
 * has answered itself through `res` (streams, statuses chosen at run time).
 */
export type Handler<K extends DocumentedRouteName> = (input: ParsedInput<K>, call: Call) => Promise<Reply<K> | void> | Reply<K> | void;

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

  route<K extends DocumentedRouteName>(name: K, handler: Handler<K>): void {
    const spec: RouteDef = routes[name];
    const guards: RequestHandler[] = spec.access === 'public' ? [] : [requireRole(spec.access)];
    const status = successStatus(spec);
    this.router[spec.method](spec.path, ...guards, async (req, res) => {
      const call: Call = { req, res, get actor() { return actorOf(req); } };
      const reply = await handler(parseRequest(spec, req) as ParsedInput<K>, call);
      if (res.headersSent) return;
      if (reply === undefined) {
        res.status(status).end();
        return;
      }
      const id = (reply as { id?: unknown }).id;
      if (spec.location && typeof id === 'string') res.location(spec.location.replace(':id', id));
      res.status(status).json(reply);
    });
    document(this.registry, spec);
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

/** The params, query and body of a request, parsed by the route's schemas. */
export function parseRequest(spec: RouteDef, req: Request): { params: unknown; query: unknown; body: unknown } {
  return {
    params: spec.params ? parseParams(spec.params, req.params) : {},
    query: spec.query ? parseQuery(spec, spec.query, req.query ?? {}) : {},
    body: spec.body ? parseInput(spec.body, req.body ?? {}) : undefined,
  };
}

function parseParams(schema: z.ZodObject, params: unknown): unknown {
  const parsed = schema.safeParse(params);
  if (!parsed.success) throw new NotFoundError(parsed.error.issues[0]!.message);
  return parsed.data;
}

function parseQuery(spec: RouteDef, schema: z.ZodObject, query: unknown): unknown {
  if (!spec.querySentence) return parseInput(schema, query);
  const parsed = schema.safeParse(query);
  if (!parsed.success) throw new ValidationError(spec.querySentence(parsed.error.issues));
  return parsed.data;
}

function document(registry: OpenAPIRegistry, spec: RouteDef): void {
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
  registry.registerPath({
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
      ...(spec.upload ? { body: { description: spec.upload.description, required: true, content: { [spec.upload.contentType]: { schema: z.string().meta({ format: 'binary' }) } } } } : {}),
    },
    responses,
  });
}
