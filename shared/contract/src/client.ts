// A typed client derived from the route table: `call('backups.list', { query: { status: 'failed' } })`
// builds the request from the route's method and path and answers with the type of the route's
// success schema. How requests are sent (fetch with a token, with a session cookie and CSRF
// header, error handling) is the caller's: the CLI and the web UI each give their own `send`.
import type { z } from 'zod';
import type { RouteDef } from './route.js';
import { clientRoutes, type RouteName, type Routes } from './routes.js';

type InputOf<S> = S extends z.ZodType ? z.input<S> : never;
type OutputOf<S> = S extends z.ZodType ? z.output<S> : never;

/** What a call of route K takes: its path params, its query and its body, each when it has one. */
export type CallInput<K extends RouteName> = (Routes[K] extends { params: infer P } ? { params: InputOf<P> } : { params?: never }) &
  (Routes[K] extends { query: infer Q } ? { query?: InputOf<Q> } : { query?: never }) &
  (Routes[K] extends { body: infer B } ? { body: InputOf<B> } : { body?: never });

/** What the API hands a route's handler: its params, query and body, parsed. */
export type ParsedInput<K extends RouteName> = {
  params: Routes[K] extends { params: infer P } ? OutputOf<P> : Record<string, never>;
  query: Routes[K] extends { query: infer Q } ? OutputOf<Q> : Record<string, never>;
  body: Routes[K] extends { body: infer B } ? OutputOf<B> : undefined;
};

type SuccessAnswer<K extends RouteName> = Routes[K]['responses'][Extract<keyof Routes[K]['responses'], 200 | 201 | 202 | 204 | 206>];

/** The answer of a successful call of route K (undefined for a 204). */
export type CallOutput<K extends RouteName> = SuccessAnswer<K> extends { schema: infer S } ? OutputOf<S> : undefined;

/** What a handler of route K answers with: the success schema's input (what is serialised). */
export type Reply<K extends RouteName> = SuccessAnswer<K> extends { schema: infer S } ? InputOf<S> : undefined;

export interface ApiRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path and query string, e.g. /api/backups?status=failed */
  path: string;
  body?: unknown;
}

/** The method, path (params filled in, query appended) and body of a call. */
export function requestOf<K extends RouteName>(name: K, input: CallInput<K>): ApiRequest {
  const route: RouteDef = clientRoutes[name];
  const { params, query, body } = input as { params?: Record<string, unknown>; query?: Record<string, unknown>; body?: unknown };
  const path = route.path.replace(/:(\w+)/g, (_, key: string) => encodeURIComponent(String(params?.[key] ?? '')));
  return { method: route.method.toUpperCase() as ApiRequest['method'], path: `${path}${queryString(query ?? {})}`, ...(body === undefined ? {} : { body }) };
}

/** A query string from the set values of an object (undefined, null and empty strings left out). */
export function queryString(query: Record<string, unknown>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, Array.isArray(value) ? value.join(',') : String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** The arguments of a call of route K: its input, which may be left out when nothing in it is required. */
export type CallArguments<K extends RouteName> = object extends CallInput<K> ? [input?: CallInput<K>] : [input: CallInput<K>];

export interface TypedClient {
  call<K extends RouteName>(name: K, ...input: CallArguments<K>): Promise<CallOutput<K>>;
}

/** A client whose every call goes through `send`, which answers with the parsed JSON (or undefined). */
export function createTypedClient(send: (request: ApiRequest) => Promise<unknown>): TypedClient {
  return {
    call: (name, ...input) => send(requestOf(name, (input[0] ?? {}) as never)) as never,
  };
}
