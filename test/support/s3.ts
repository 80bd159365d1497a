// A fake S3 endpoint per test file: s3rver in a child process on a random port over a temporary
// directory. The process can be killed like a crash and started again over the same directory
// and port, which is how the tests interrupt uploads.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { S3StorageOptions } from '@coffre/shared/s3';

/** s3rver's fixed account. */
export const S3_ACCESS_KEY_ID = 'S3RVER';
export const S3_SECRET_ACCESS_KEY = 'S3RVER';

const SERVER_SCRIPT = join(import.meta.dirname, 's3-server.mjs');

export interface S3Server {
  endpoint: string;
  port: number;
  /** Where s3rver keeps buckets, objects and multipart uploads. */
  dir: string;
  pid(): number;
  /** Driver options for a bucket of this server. */
  options(bucket: string, prefix?: string): S3StorageOptions;
  createBucket(name: string): Promise<void>;
  /** Keys of multipart uploads s3rver holds on disk for a bucket (independent of its API). */
  uploadsOnDisk(bucket: string): Promise<string[]>;
  /** The parts s3rver received for a key, in arrival order, and the most it received at once. */
  partsReceived(key: string): Promise<{ parts: ReceivedPart[]; maxPartsInFlight: number }>;
  /** How many requests of each HTTP method it has answered since it started (PUT, DELETE, …). */
  requestsByMethod(): Promise<Record<string, number>>;
  /** Kills the process without letting it finish anything, like a crash. */
  crash(): Promise<void>;
  /** Starts it again over the same directory and port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface ReceivedPart {
  key: string;
  partNumber: number;
  bytes: number;
  status: number;
}

export async function startS3Server(): Promise<S3Server> {
  const dir = await mkdtemp(join(tmpdir(), 'coffre-s3-'));
  let running = await launch(dir, 0);
  const port = running.port;
  const endpoint = `http://127.0.0.1:${port}`;
  const options = (bucket: string, prefix?: string): S3StorageOptions => ({
    endpoint,
    region: 'us-east-1',
    bucket,
    prefix,
    accessKeyId: S3_ACCESS_KEY_ID,
    secretAccessKey: S3_SECRET_ACCESS_KEY,
    forcePathStyle: true,
  });
  return {
    endpoint,
    port,
    dir,
    pid: () => running.child.pid!,
    options,
    // A bucket is a directory to s3rver (its CreateBucket does the same mkdir); the tests reach the
    // SDK only through @coffre/shared, which does not create buckets.
    async createBucket(name) {
      await mkdir(join(dir, name), { recursive: true });
    },
    async uploadsOnDisk(bucket) {
      return readdir(join(dir, bucket, '._S3rver_uploads')).catch(() => []);
    },
    async partsReceived(key) {
      const response = await fetch(`${endpoint}/__coffre/requests`);
      const log = (await response.json()) as { parts: ReceivedPart[]; maxPartsInFlight: number };
      return { parts: log.parts.filter((p) => p.key === key), maxPartsInFlight: log.maxPartsInFlight };
    },
    async requestsByMethod() {
      const response = await fetch(`${endpoint}/__coffre/requests`);
      return ((await response.json()) as { methods: Record<string, number> }).methods;
    },
    async crash() {
      await stopProcess(running.child, 'SIGKILL');
    },
    async restart() {
      running = await launch(dir, port);
    },
    async stop() {
      await stopProcess(running.child, 'SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function launch(dir: string, port: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--openssl-legacy-provider', SERVER_SCRIPT, dir, String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr = (stderr + text).slice(-4000)));
  const lines = createInterface({ input: child.stdout! });
  const ready = new Promise<number>((resolve, reject) => {
    lines.once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`s3rver exited with code ${code} before listening: ${stderr}`)));
  });
  const actualPort = await ready;
  return { child, port: actualPort };
}

async function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}
