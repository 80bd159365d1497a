// The OpenAPI document, generated from the contract's route table, and a Swagger UI page for it.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import express from 'express';
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
  let cached: Record<string, unknown> | null = null;
  api.route('docs.openapi', () => (cached ??= document() as Record<string, unknown>));
  api.route('docs.page', (_input, { res }) => {
    res.type('html').send(page);
  });
  api.route('docs.script', (_input, { res }) => {
    res.type('text/javascript').send(init);
  });
  api.static('/api/docs/assets', express.static(swaggerUiDir, { index: false }));
}
