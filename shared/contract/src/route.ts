// A route as the contract declares it: method, path, who may call it, the schemas of its params,
// query and body, and its answers. The API mounts and validates from it and generates its OpenAPI
// document from it; the CLI and the web UI call it through the typed client (client.ts).
import type { z } from 'zod';
import type { Access } from './common.js';

export interface RouteAnswer {
  description: string;
  schema?: z.ZodType;
  /** application/json unless said. */
  contentType?: string;
}

export interface RouteDef {
  method: 'get' | 'post' | 'put' | 'delete';
  /** Express-style path, e.g. /api/backups/:id */
  path: string;
  summary: string;
  tag: string;
  access: Access;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** A raw request body (an upload) instead of JSON: its content type, as documented. */
  upload?: { contentType: string; description: string };
  responses: Record<number, RouteAnswer>;
  /** Where what it creates lives (the Location of its answer): a path whose :id is the answer's id. */
  location?: string;
  /** The 400 sentence of a refused query, when the route words it itself rather than field by field. */
  querySentence?: (issues: readonly z.core.$ZodIssue[]) => string;
}

/** Declares routes, keeping each one's literal types (the client and the API's handlers are typed from them). */
export function defineRoutes<const T extends Record<string, RouteDef>>(routes: T): T {
  return routes;
}

/** The status of a route's answer when it succeeds: its first 2xx (a redirect for the routes that only redirect). */
export function successStatus(route: RouteDef): number {
  return Number(Object.keys(route.responses).find((status) => status.startsWith('2')) ?? Object.keys(route.responses).find((status) => status.startsWith('3')) ?? 200);
}
