// Every route that takes a body or a query, fed bodies generated from its own schema (as the published
// OpenAPI document gives it): mostly well-formed, so that the handler's own code runs past
// validation, with one field at a time bent out of shape (wrong type, out of range, empty, huge,
// control characters, unknown keys). As an admin, on real objects where the path names one. Whatever
// comes in, the answer is never a 500 and never a stack trace: a 4xx carries a sentence.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import fc from 'fast-check';
import { routes, type RouteDef } from '@coffre/shared';
import { createTestStack, type TestStack } from '../support/stack.js';

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  prefixItems?: JsonSchema[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  additionalProperties?: boolean | JsonSchema;
};

/** Values that break a field whatever its type. */
const bent: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, '', ' ', -1, 0, 1e308, -1e308, 2 ** 53 + 1, 1.5, true, [], {}, '\u0000', '../../../etc/passwd', '\u202e\u2066evil', 'NaN', '9'.repeat(400)),
  fc.string({ maxLength: 40, unit: 'binary' }),
  fc.string({ minLength: 2000, maxLength: 5000 }),
  fc.integer(),
  fc.double(),
);

function arbitrary(schema: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  if (depth > 6) return fc.constant(null);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives?.length) return fc.oneof(...alternatives.map((s) => arbitrary(s, depth + 1)));
  if (schema.allOf?.length) return arbitrary(Object.assign({}, ...schema.allOf) as JsonSchema, depth + 1);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      return stringOf(schema);
    case 'integer':
    case 'number': {
      const min = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : -1000);
      const max = schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - 1 : 100_000);
      const lo = Math.max(min, -1e9);
      const hi = Math.min(max, 1e9);
      return type === 'integer' ? fc.integer({ min: Math.ceil(lo), max: Math.floor(Math.max(lo, hi)) }) : fc.double({ min: lo, max: Math.max(lo, hi), noNaN: true });
    }
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const item = schema.items ? arbitrary(schema.items, depth + 1) : fc.string();
      return fc.array(item, { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 4, 4) });
    }
    case 'object':
    default: {
      if (!schema.properties) return fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 2 });
      const required = new Set(schema.required ?? []);
      const fields = Object.fromEntries(Object.entries(schema.properties).map(([key, s]) => [key, arbitrary(s, depth + 1)]));
      // fc.record leaves the optional keys out at random.
      return fc.record(fields, { requiredKeys: [...required].filter((key) => key in fields) });
    }
  }
}

function stringOf(schema: JsonSchema): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0;
  const max = Math.max(min, Math.min(schema.maxLength ?? 40, 200));
  switch (schema.format) {
    case 'uuid':
      return fc.uuid({ version: 7 });
    case 'date-time':
      return fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
    case 'email':
      return fc.emailAddress();
    case 'uri':
      return fc.webUrl();
    default:
      return fc.oneof(fc.string({ minLength: min, maxLength: max }), fc.stringMatching(/^[a-z][a-z0-9_-]{0,30}$/).map((s) => s.padEnd(min, 'x').slice(0, max)));
  }
}

/** A well-formed body with, half the time, one field bent out of shape or an unknown key added. */
function bodies(schema: JsonSchema): fc.Arbitrary<unknown> {
  const wellFormed = arbitrary(schema);
  return fc.oneof(
    wellFormed,
    fc.tuple(wellFormed, bent, fc.nat()).map(([value, wrong, pick]) => {
      if (!value || typeof value !== 'object' || Array.isArray(value)) return wrong;
      const keys = Object.keys(schema.properties ?? {});
      const key = keys.length ? keys[pick % keys.length]! : 'field';
      return { ...value, [key]: wrong };
    }),
    fc.tuple(wellFormed, fc.string({ minLength: 1, maxLength: 12 })).map(([value, key]) => (value && typeof value === 'object' && !Array.isArray(value) ? { ...value, [key]: 1 } : value)),
  );
}

let document: { paths: Record<string, Record<string, { requestBody?: { content?: Record<string, { schema: JsonSchema }> }; parameters?: { in: string; name: string; required?: boolean; schema: JsonSchema }[] }>>; components?: { schemas?: Record<string, JsonSchema> } };

/** A schema with its $refs to the document's components replaced by what they name. */
function resolved(schema: JsonSchema & { $ref?: string }, depth = 0): JsonSchema {
  if (depth > 8 || !schema || typeof schema !== 'object') return schema;
  if (schema.$ref) return resolved(document.components?.schemas?.[schema.$ref.split('/').pop()!] ?? {}, depth + 1);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties' && value) out[key] = Object.fromEntries(Object.entries(value as Record<string, JsonSchema>).map(([k, v]) => [k, resolved(v, depth + 1)]));
    else if ((key === 'items' || key === 'additionalProperties') && value && typeof value === 'object') out[key] = resolved(value as JsonSchema, depth + 1);
    else if ((key === 'anyOf' || key === 'oneOf' || key === 'allOf' || key === 'prefixItems') && Array.isArray(value)) out[key] = value.map((v) => resolved(v as JsonSchema, depth + 1));
    else out[key] = value;
  }
  return out as JsonSchema;
}

const operation = (route: RouteDef) => document.paths[route.path.replace(/:([a-zA-Z]+)/g, '{$1}')]?.[route.method];

function bodySchema(route: RouteDef): JsonSchema {
  const schema = operation(route)?.requestBody?.content?.['application/json']?.schema;
  expect(schema, `${route.method} ${route.path}: its body in the OpenAPI document`).toBeDefined();
  return resolved(schema!);
}

function querySchema(route: RouteDef): JsonSchema {
  const parameters = (operation(route)?.parameters ?? []).filter((p) => p.in === 'query');
  expect(parameters.length, `${route.method} ${route.path}: its query in the OpenAPI document`).toBeGreaterThan(0);
  return { type: 'object', properties: Object.fromEntries(parameters.map((p) => [p.name, resolved(p.schema)])), required: parameters.filter((p) => p.required).map((p) => p.name) };
}

/** A request left unanswered is a failure of its own (its generated input is then printed). */
const ANSWER_WITHIN_MS = 20_000;

let stack: TestStack;
let admin: string;
let ids: Record<string, string>;
let calls = 0;
const answers = new Map<number, number>();

beforeAll(async () => {
  stack = await createTestStack();
  admin = stack.adminToken;
  const auth = { Authorization: `Bearer ${admin}` };
  document = (await request(stack.app).get('/api/openapi.json').set(auth)).body;
  const source = await request(stack.app).get('/api/sources').set(auth);
  const destination = await request(stack.app).get('/api/destinations').set(auth);
  const configuration = await request(stack.app)
    .post('/api/configurations')
    .set(auth)
    .send({ name: 'fuzzed', sourceId: source.body.items[0].id, type: 'full', schedule: { kind: 'daily', time: '02:30' }, retention: { keepLast: 3 } });
  expect(configuration.status).toBe(201);
  const channel = await request(stack.app).post('/api/notification-channels').set(auth).send({ name: 'fuzz hook', type: 'webhook', config: { url: 'https://hooks.example.com/coffre' } });
  ids = {
    sources: source.body.items[0].id,
    destinations: destination.body.items[0].id,
    configurations: configuration.body.id,
    ...(channel.status === 201 ? { 'notification-channels': channel.body.id } : {}),
  };
});

afterAll(async () => {
  console.info(`fuzz: ${calls} generated requests, answers ${JSON.stringify(Object.fromEntries([...answers].sort()))}`);
  await stack?.close();
});

/** The path with a real object's id where the resource has one (else an id that names nothing). */
function concrete(path: string): string {
  const resource = /^\/api\/([a-z-]+)\//.exec(path)?.[1] ?? '';
  return path.replace(/:[a-zA-Z]+/g, ids[resource] ?? '0195a3c1-7b2e-7c3d-8e4f-0123456789ab');
}

function check(route: RouteDef, what: unknown, res: request.Response): void {
  calls += 1;
  answers.set(res.status, (answers.get(res.status) ?? 0) + 1);
  const text = JSON.stringify(res.body ?? res.text ?? '');
  const wrong =
    res.status >= 500 ? `answered ${res.status}: ${text.slice(0, 300)}` : /\n\s+at [\w.<>]+ \(|node:internal|\.ts:\d+:\d+/.test(text) ? `a stack trace: ${text.slice(0, 300)}` : res.status >= 400 && typeof res.body?.error?.message !== 'string' ? `a ${res.status} with no sentence: ${text.slice(0, 300)}` : null;
  expect(wrong, `${route.method.toUpperCase()} ${route.path} with ${JSON.stringify(what).slice(0, 400)}`).toBeNull();
}

// Routes that would end the test's own session or token, or wait on an endless stream.
const skipped = new Set(['/api/auth/logout', '/api/events']);
const withBody = Object.values(routes as Record<string, RouteDef>).filter((r) => r.body && !skipped.has(r.path));
const withQuery = Object.values(routes as Record<string, RouteDef>).filter((r) => r.query && r.method === 'get' && !skipped.has(r.path));

describe('generated bodies and queries never yield a 500', () => {
  it.each(withBody.map((r) => [`${r.method.toUpperCase()} ${r.path}`, r] as const))('%s', async (_name, route) => {
    const schema = bodySchema(route);
    await fc.assert(
      fc.asyncProperty(bodies(schema), async (body) => {
        const call = (request(stack.app) as unknown as Record<string, (p: string) => request.Test>)[route.method]!(concrete(route.path));
        const res = await call.set('Authorization', `Bearer ${admin}`).set('Content-Type', 'application/json').timeout(ANSWER_WITHIN_MS).send(JSON.stringify(body));
        check(route, body, res);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 25), seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31) },
    );
  });

  it.each(withQuery.map((r) => [`GET ${r.path}`, r] as const))('%s (query)', async (_name, route) => {
    const schema = querySchema(route);
    await fc.assert(
      fc.asyncProperty(bodies(schema), async (query) => {
        const flat = query && typeof query === 'object' && !Array.isArray(query) ? Object.fromEntries(Object.entries(query).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])) : { q: String(query) };
        const res = await request(stack.app).get(concrete(route.path)).query(flat).set('Authorization', `Bearer ${admin}`).timeout(ANSWER_WITHIN_MS);
        check(route, flat, res);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 25), seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31) },
    );
  });

  // Found by this file (GET /api/audit?action=%00 answered 500: PostgreSQL stores no NUL in text).
  it('a NUL character in any route’s query or body is refused with a sentence', async () => {
    for (const route of withQuery) {
      const key = Object.keys(querySchema(route).properties ?? {})[0] ?? 'q';
      const res = await request(stack.app).get(concrete(route.path)).query({ [key]: 'a\u0000b' }).set('Authorization', `Bearer ${admin}`).timeout(ANSWER_WITHIN_MS);
      expect([res.status, res.body?.error?.message], `GET ${route.path}`).toEqual([400, `The query parameter "${key}" contains a NUL character (\\u0000), which coffre cannot store: remove it.`]);
    }
    for (const route of withBody) {
      const call = (request(stack.app) as unknown as Record<string, (p: string) => request.Test>)[route.method]!(concrete(route.path));
      const res = await call.set('Authorization', `Bearer ${admin}`).set('Content-Type', 'application/json').timeout(ANSWER_WITHIN_MS).send(JSON.stringify({ name: 'x', nested: { ['k\u0000']: 1 } }));
      expect([res.status, res.body?.error?.message], `${route.method.toUpperCase()} ${route.path}`).toEqual([400, 'A key of "nested" contains a NUL character (\\u0000), which coffre cannot store: remove it.']);
    }
  });
});
