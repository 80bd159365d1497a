// The OpenAPI document, generated from the routes' own zod schemas, and a Swagger UI page for it.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import express from 'express';
import { z } from 'zod';
import type { Api } from '../http/routes.js';

const swaggerUiDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>coffre API</title>
<link rel="stylesheet" href="/api/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/api/docs/assets/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script></body></html>`;

const init = `window.ui = SwaggerUIBundle({ url: '/api/openapi.json', dom_id: '#swagger-ui', withCredentials: true });`;

export function docsRoutes(api: Api, document: () => object): void {
  let cached: object | null = null;
  api.route({
    method: 'get',
    path: '/api/openapi.json',
    summary: 'This OpenAPI document',
    tag: 'docs',
    access: 'viewer',
    responses: { 200: { description: 'OpenAPI 3.1.', schema: z.object({}).passthrough() } },
    handler: (_req, res) => {
      res.json((cached ??= document()));
    },
  });
  api.route({
    method: 'get',
    path: '/api/docs',
    summary: 'The API documentation page',
    tag: 'docs',
    access: 'viewer',
    responses: { 200: { description: 'HTML.', schema: z.string(), contentType: 'text/html' } },
    handler: (_req, res) => {
      res.type('html').send(page);
    },
  });
  api.route({
    method: 'get',
    path: '/api/docs/init.js',
    summary: 'Script of the documentation page',
    tag: 'docs',
    access: 'viewer',
    responses: { 200: { description: 'JavaScript.', schema: z.string(), contentType: 'text/javascript' } },
    handler: (_req, res) => {
      res.type('text/javascript').send(init);
    },
  });
  api.static('/api/docs/assets', express.static(swaggerUiDir, { index: false }));
}
