// The commands that run where coffre runs (doctor, cleanup, storage reconcile) read the same
// environment as the API and the workers (DATABASE_URL, REDIS_URL, SECRET_KEY, …) and talk to the
// database and Redis directly, so that they work when the API is down.
import type { AppContext, Config } from '@coffre/shared';
import { CliError, ExitCode } from './exit-codes.js';

export interface LocalCoffre {
  ctx: AppContext;
  config: Config;
  redis: AppContext['queues']['redis'];
  /** Whether Redis answered within a few seconds of opening. */
  redisReady: boolean;
  close(): Promise<void>;
}

export async function openLocalCoffre(env: NodeJS.ProcessEnv = process.env): Promise<LocalCoffre> {
  const shared = await import('@coffre/shared');
  let config: Config;
  try {
    config = shared.loadConfig(env);
  } catch (error) {
    if (error instanceof shared.ConfigError) {
      throw new CliError(`${error.message} This command runs where coffre runs and reads the same environment as its API and workers.`, ExitCode.usage);
    }
    throw error;
  }
  // The API's kind of connection: commands fail at once while Redis is away instead of queueing.
  const redis = shared.createRedis(config.REDIS_URL, 'api');
  const redisReady = await new Promise<boolean>((resolve) => {
    const settle = (ready: boolean) => {
      clearTimeout(timer);
      resolve(ready);
    };
    const timer = setTimeout(() => settle(false), 3_000);
    redis.once('ready', () => settle(true));
    // Nothing listening, or no such host: no point waiting for a retry to say the same.
    redis.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED' || error.code === 'ENOTFOUND') settle(false);
    });
  });
  const db = shared.createDb(config.DATABASE_URL, { max: 3 });
  const queues = shared.createJobQueues({ redisUrl: config.REDIS_URL, prefix: config.QUEUE_PREFIX, role: 'api', redis });
  const logger = shared.createLogger({ level: 'silent', name: 'coffre-cli' });
  const ctx = shared.createAppContext({ config, db, queues, logger });
  return {
    ctx,
    config,
    redis,
    redisReady,
    async close() {
      // Closing queues talks to Redis: with Redis away it would only wait.
      if (redisReady) await shared.waitAtMost(queues.close(), 2_000);
      redis.disconnect();
      await db.$disconnect().catch(() => {});
    },
  };
}
