// The API process: configured by the environment only.
import { once } from 'node:events';
import {
  bootstrapAdmin,
  createAppContext,
  createDb,
  createJobQueues,
  createLogger,
  ensureDefaultDestination,
  ensureDefaultSource,
  loadConfigOrExit,
} from '@coffre/shared';
import { createApp } from './app.js';

const config = loadConfigOrExit();
const logger = createLogger({ level: config.LOG_LEVEL, name: 'coffre-api', buffered: true });
const db = createDb(config.DATABASE_URL);
const queues = createJobQueues({ redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX, role: 'api' });
const ctx = createAppContext({ config, db, queues, logger });

try {
  await ensureDefaultDestination(ctx);
  await ensureDefaultSource(ctx);
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

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'stopping the API');
  server.close();
  server.closeIdleConnections();
  setTimeout(() => server.closeAllConnections(), 10_000).unref();
  await once(server, 'close').catch(() => {});
  await queues.close();
  await db.$disconnect();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
