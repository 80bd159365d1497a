// A Redis Sentinel group of the test's own on spare loopback ports: one primary, one replica and three
// sentinels (quorum 2), started from Debian's redis-server and redis-sentinel, with no persistence and
// their files in a temporary directory. The sentinels notice a dead primary after a second (not the
// default 30 s), so that a failover fits in a test. Everything is killed and removed by close().
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './redis-server.js';

export const MASTER_NAME = 'coffremaster';
const DOWN_AFTER_MS = 1000;
const FAILOVER_TIMEOUT_MS = 5000;

export interface SentinelGroup {
  /** REDIS_URL for coffre: redis+sentinel://127.0.0.1:a,127.0.0.1:b,127.0.0.1:c/coffremaster */
  url: string;
  sentinelPorts: number[];
  /** The port of the server the sentinels currently name as primary. */
  primaryPort(): Promise<number>;
  /** SIGKILLs the server that is primary now (like a crash: whatever it did not replicate is gone); its port. */
  killPrimary(): Promise<number>;
  /** Starts a killed server again, empty, on its port; resolves once the sentinels have made it a synced replica. */
  restartAsReplica(port: number): Promise<void>;
  /** Asks a sentinel for a failover (SENTINEL FAILOVER: the primary is demoted, not killed); the old primary's port. */
  failover(): Promise<number>;
  /** Waits until every sentinel names another primary than `oldPort` and that server says it is the master; its port. */
  waitForPromotion(oldPort: number, timeoutMs?: number): Promise<number>;
  /** Lines the servers and sentinels wrote (warnings and up). */
  output(): string;
  close(): Promise<void>;
}

export async function startSentinelGroup(): Promise<SentinelGroup> {
  const dir = await mkdtemp(join(tmpdir(), 'coffre-sentinel-'));
  const servers = new Map<number, ChildProcess>();
  const sentinels: ChildProcess[] = [];
  let output = '';
  const watch = (child: ChildProcess, name: string) => {
    child.stdout?.on('data', (d) => (output += `[${name}] ${String(d)}`));
    child.stderr?.on('data', (d) => (output += `[${name}] ${String(d)}`));
  };
  const primary = await freePort();
  const replica = await freePort();
  const sentinelPorts = [await freePort(), await freePort(), await freePort()];
  const serverArgs = (port: number) => ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--dbfilename', `dump-${port}.rdb`, '--protected-mode', 'no', '--loglevel', 'warning', '--maxmemory-policy', 'noeviction'];
  // One short-lived connection per question, disconnected after it: a killed server must not leave one retrying.
  const admin = (port: number) => {
    const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1000 });
    client.on('error', () => {});
    return client;
  };
  const group: SentinelGroup = {
    url: `redis+sentinel://${sentinelPorts.map((p) => `127.0.0.1:${p}`).join(',')}/${MASTER_NAME}`,
    sentinelPorts,
    async primaryPort() {
      return (await namedPrimaries())[0]!;
    },
    async killPrimary() {
      const port = await group.primaryPort();
      const child = servers.get(port);
      if (!child) throw new Error(`the sentinels name port ${port}, which is none of the group's servers`);
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
      return port;
    },
    async restartAsReplica(port) {
      const child = spawn('redis-server', serverArgs(port), { stdio: ['ignore', 'pipe', 'pipe'] });
      watch(child, `redis ${port}`);
      servers.set(port, child);
      // Sentinel sees its old primary come back and turns it into a replica of the new one.
      await until(async () => /role:slave[\s\S]*master_link_status:up/.test(await replicationInfo(port)), 60_000, `port ${port} to become a synced replica`);
      await until(async () => (await Promise.all(sentinelPorts.map((p) => replicaSeen(p, port)))).every(Boolean), 30_000, `the sentinels to see port ${port} as a replica`);
    },
    async failover() {
      const port = await group.primaryPort();
      const client = admin(sentinelPorts[0]!);
      try {
        await client.call('SENTINEL', 'FAILOVER', MASTER_NAME);
      } finally {
        client.disconnect();
      }
      return port;
    },
    async waitForPromotion(oldPort, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const named = await namedPrimaries().catch(() => []);
        const port = named[0];
        if (named.length === sentinelPorts.length && port !== undefined && port !== oldPort && named.every((p) => p === port) && (await isMaster(port))) return port;
        if (Date.now() > deadline) throw new Error(`no replica was promoted within ${timeoutMs} ms (sentinels name ${JSON.stringify(named)}): ${output.slice(-3000)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    output: () => output,
    async close() {
      const all = [...servers.values(), ...sentinels].filter((c) => c.exitCode === null && c.signalCode === null);
      await Promise.all(
        all.map((c) => {
          const exited = once(c, 'exit');
          c.kill('SIGKILL');
          return exited;
        }),
      );
      await rm(dir, { recursive: true, force: true });
    },
  };

  async function namedPrimaries(): Promise<number[]> {
    return Promise.all(
      sentinelPorts.map(async (port) => {
        const client = admin(port);
        try {
          const answer = (await client.call('SENTINEL', 'get-master-addr-by-name', MASTER_NAME)) as [string, string] | null;
          return answer ? Number(answer[1]) : 0;
        } finally {
          client.disconnect();
        }
      }),
    );
  }

  async function replicaSeen(sentinelPort: number, port: number): Promise<boolean> {
    const client = admin(sentinelPort);
    try {
      const replicas = (await client.call('SENTINEL', 'replicas', MASTER_NAME)) as string[][];
      return replicas.some((r) => r[r.indexOf('port') + 1] === String(port) && !flags(r).includes('down') && r[r.indexOf('master-link-status') + 1] === 'ok');
    } catch {
      return false;
    } finally {
      client.disconnect();
    }
  }

  async function isMaster(port: number): Promise<boolean> {
    const client = admin(port);
    try {
      const role = (await client.call('ROLE')) as unknown[];
      return role[0] === 'master';
    } catch {
      return false;
    } finally {
      client.disconnect();
    }
  }

  async function replicationInfo(port: number): Promise<string> {
    const client = admin(port);
    try {
      return (await client.call('INFO', 'replication')) as string;
    } catch {
      return '';
    } finally {
      client.disconnect();
    }
  }

  try {
    servers.set(primary, spawn('redis-server', serverArgs(primary), { stdio: ['ignore', 'pipe', 'pipe'] }));
    servers.set(replica, spawn('redis-server', [...serverArgs(replica), '--replicaof', '127.0.0.1', String(primary)], { stdio: ['ignore', 'pipe', 'pipe'] }));
    for (const [port, child] of servers) watch(child, `redis ${port}`);
    // The replica is in sync before the sentinels start: they then find it on their first INFO.
    await until(async () => /master_link_status:up/.test(await replicationInfo(replica)), 20_000, 'the replica to sync with the primary');
    for (const port of sentinelPorts) {
      const conf = join(dir, `sentinel-${port}.conf`);
      // Sentinel rewrites its configuration file (what it learnt: replicas, other sentinels, epochs).
      await writeFile(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          'protected-mode no',
          `dir ${dir}`,
          'loglevel warning',
          `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${primary} 2`,
          `sentinel down-after-milliseconds ${MASTER_NAME} ${DOWN_AFTER_MS}`,
          `sentinel failover-timeout ${MASTER_NAME} ${FAILOVER_TIMEOUT_MS}`,
          `sentinel parallel-syncs ${MASTER_NAME} 1`,
          '',
        ].join('\n'),
      );
      const child = spawn('redis-sentinel', [conf], { stdio: ['ignore', 'pipe', 'pipe'] });
      watch(child, `sentinel ${port}`);
      sentinels.push(child);
    }
    // Ready when every sentinel knows the replica and the two other sentinels: a failover needs both.
    await until(
      async () => {
        const views = await Promise.all(
          sentinelPorts.map(async (port) => {
            const client = admin(port);
            try {
              const replicas = (await client.call('SENTINEL', 'replicas', MASTER_NAME)) as string[][];
              const peers = (await client.call('SENTINEL', 'sentinels', MASTER_NAME)) as string[][];
              return replicas.length === 1 && !flags(replicas[0]!).includes('down') && peers.length === sentinelPorts.length - 1;
            } finally {
              client.disconnect();
            }
          }),
        ).catch(() => [false]);
        return views.every(Boolean);
      },
      30_000,
      'the sentinels to find the replica and each other',
    );
    return group;
  } catch (error) {
    const message = `${(error as Error).message}: ${output.slice(-3000)}`;
    await group.close();
    throw new Error(message, { cause: error });
  }
}

function flags(fields: string[]): string {
  const i = fields.indexOf('flags');
  return i === -1 ? '' : (fields[i + 1] ?? '');
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
