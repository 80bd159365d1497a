// `node services/worker/dist/healthcheck.js`: exits 0 when this worker's dependencies answer
// (coffre's database, Redis) and a local BACKUP_DIR is writable; used by container healthchecks.
import { createDb, createLocalStorage, createRedis, loadConfigOrExit } from '@coffre/shared';

const config = loadConfigOrExit();
const db = createDb(config.DATABASE_URL, { max: 1 });
const redis = createRedis(config.REDIS_URL, 'api');
redis.on('error', () => {});
const timeout = setTimeout(() => fail('no answer within 10 s'), 10_000);

await check("coffre's database", () => db.$queryRaw`SELECT 1`);
await check('Redis', async () => {
  if ((await redis.ping()) !== 'PONG') throw new Error('it did not answer PONG');
});
await check('BACKUP_DIR', () => createLocalStorage(config.BACKUP_DIR).checkWritable());
clearTimeout(timeout);
process.exit(0);

async function check(what: string, work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (error) {
    fail(`${what}: ${(error as Error).message}`);
  }
}

function fail(message: string): never {
  process.stderr.write(`unhealthy: ${message}\n`);
  process.exit(1);
}
