// The API is the contract's route table: the OpenAPI document lists exactly its routes, each with the
// role the table gives it, every JSON answer has a schema, the answers are what those schemas say,
// and the typed client's requests reach the routes they name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { createTypedClient, routes, successStatus, type ApiRequest, type RouteDef } from '@coffre/contract';
import { createTestStack, type TestStack } from '../../../test/support/stack.js';

let stack: TestStack;
let document: { paths: Record<string, Record<string, { description: string; responses: Record<string, { content?: Record<string, { schema?: unknown }> }> }>> };

const table = Object.entries(routes as Record<string, RouteDef>);

beforeAll(async () => {
  stack = await createTestStack();
  document = (await request(stack.app).get('/api/openapi.json').set('Authorization', `Bearer ${stack.adminToken}`)).body;
});

afterAll(async () => {
  await stack?.close();
});

/** An admin's client over supertest: what the typed client sends, answered by the app. */
const client = () =>
  createTypedClient(async ({ method, path, body }: ApiRequest) => {
    const res = await (request(stack.app) as unknown as Record<string, (p: string) => request.Test>)[method.toLowerCase()]!(path).set('Authorization', `Bearer ${stack.adminToken}`).send(body as object);
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  });

describe('the OpenAPI document is the route table', () => {
  it('lists exactly the routes of the contract, each with its role', () => {
    const documented = Object.entries(document.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => `${method} ${path} ${op.description}`));
    const declared = table.map(([, r]) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')} ${r.access === 'public' ? 'No authentication.' : `Needs the ${r.access} role or higher.`}`);
    expect(documented.sort()).toEqual(declared.sort());
  });

  it('gives every JSON answer of success a schema', () => {
    const missing = table.filter(([, r]) => {
      const status = successStatus(r);
      // A 204 has no body, and a redirect (single sign-on) no JSON.
      return status < 300 && status !== 204 && !r.responses[status]?.schema;
    });
    expect(missing.map(([name]) => name)).toEqual([]);
  });
});

describe('answers are what the contract says', () => {
  it.each(['tokens.list', 'users.list', 'auth.me', 'backups.stats', 'backups.list', 'sources.list', 'destinations.list', 'configurations.list', 'sessions.list', 'system.get'] as const)(
    '%s parses with its success schema',
    async (name) => {
      const route: RouteDef = routes[name];
      const answer = await client().call(name);
      const parsed = route.responses[successStatus(route)]!.schema!.safeParse(answer);
      expect({ name, issues: parsed.success ? [] : parsed.error.issues }).toEqual({ name, issues: [] });
    },
  );

  it('the typed client fills params and query in: a token created, found in the list, revoked', async () => {
    const api = client();
    const created = await api.call('tokens.create', { body: { name: 'contract-test', role: 'viewer', expiresInDays: 1 } });
    expect(created.token).toMatch(/^cof_/);
    expect((await api.call('tokens.list')).items.map((t) => t.id)).toContain(created.id);
    await api.call('tokens.revoke', { params: { id: created.id } });
    expect((await api.call('tokens.list')).items.find((t) => t.id === created.id)?.revokedAt).not.toBeNull();
    const page = await api.call('backups.list', { query: { status: 'completed,failed', pageSize: 5 } });
    expect(page.pageSize).toBe(5);
  });
});
