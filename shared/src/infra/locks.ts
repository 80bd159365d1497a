// At most one backup or restore touches a source database at a time, across every worker on every
// machine: a Redis lock per database (host:port/name), renewed while the run lasts and released at
// the end. When a worker dies, its lock expires after the TTL and the next run may proceed.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

export interface SourceLock {
  /** The lock was lost (it expired while the run was stalled): stop touching the database. */
  readonly lost: boolean;
  release(): Promise<void>;
}

export function databaseLockKey(prefix: string, connection: { host: string; port: number; database: string }, database = connection.database): string {
  return `${prefix}:lock:database:${connection.host.toLowerCase()}:${connection.port}/${database}`;
}

/** A bucket (or a folder of one): backups read it, restores write it. */
export function bucketLockKey(prefix: string, bucket: { endpoint?: string; bucket: string; prefix?: string }): string {
  return `${prefix}:lock:bucket:${bucket.endpoint ?? 'aws'}/${bucket.bucket}/${bucket.prefix ?? ''}`;
}

/** Takes the lock, or returns null when another run holds it. The TTL matches the stall window: a dead worker's lock lapses as its job is taken back. */
export async function tryLockDatabase(redis: Redis, key: string, ttlMs = 30_000): Promise<SourceLock | null> {
  const token = randomUUID();
  const acquired = await redis.set(key, token, 'PX', ttlMs, 'NX');
  if (acquired !== 'OK') return null;
  let lost = false;
  const timer = setInterval(() => {
    redis.eval(RENEW, 1, key, token, String(ttlMs)).then(
      (renewed) => {
        if (renewed !== 1) lost = true;
      },
      () => {},
    );
  }, Math.floor(ttlMs / 3));
  timer.unref();
  return {
    get lost() {
      return lost;
    },
    async release() {
      clearInterval(timer);
      await redis.eval(RELEASE, 1, key, token).catch(() => {});
    },
  };
}
