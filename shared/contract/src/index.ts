// @coffre/contract: the HTTP contract of coffre, shared by the API (which validates and documents
// with it), the web UI (which checks its forms with it) and the CLI (whose client is typed by it).
// Browser-safe: zod and cron-parser only.
export * from './sentences.js';
export * from './names.js';
export * from './common.js';
export * from './schedule.js';
export * from './schedule-preview.js';
export * from './route.js';
export * from './backups.js';
export * from './imports.js';
export * from './runs.js';
export * from './configurations.js';
export * from './storage.js';
export * from './notifications.js';
export * from './auth.js';
export * from './sso.js';
export * from './audit.js';
export * from './operations.js';
export * from './dashboard.js';
export * from './pitr.js';
export * from './routes.js';
export * from './client.js';
