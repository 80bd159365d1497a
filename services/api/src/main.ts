// The API process: configured by the environment only.
import { once } from 'node:events';
import { bootstrapAdmin, closeServiceContext, createServiceContext, ensureDefaults, onStopSignals, startServiceTracing } from '@coffre/shared';
import { createApp } from './app.js';

const ctx = createServiceContext('api', { bufferedLogs: true });
const { config, logger } = ctx;
await startServiceTracing(ctx, 'api');

try {
  await ensureDefaults(ctx);
  const admin = await bootstrapAdmin(ctx);
  if (admin.token) {
    // Printed once, on the first start only: it is stored hashed and cannot be shown again.
    process.stdout.write(`\ncoffre: created the first admin API token (shown once, keep it):\n\n    ${admin.token}\n\n`);
  }
} catch (error) {
  logger.fatal({ err: error }, 'cannot start: coffre\'s database is not reachable or not migrated (run pnpm db:migrate)');
  process.exit(1);
}

const server = createApp(ctx).listen(config.PORT, config.HOST);
await once(server, 'listening');
const address = server.address();
logger.info({ address: `http://${config.HOST}:${typeof address === 'object' && address ? address.port : config.PORT}` }, 'API listening');

onStopSignals(async (signal) => {
  logger.info({ signal }, 'stopping the API');
  server.close();
  server.closeIdleConnections();
  setTimeout(() => server.closeAllConnections(), 10_000).unref();
  await once(server, 'close').catch(() => {});
  await closeServiceContext(ctx);
  process.exit(0);
});
