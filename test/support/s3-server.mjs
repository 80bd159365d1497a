// A fake S3 endpoint for tests: s3rver in its own process (so that a test can kill it like a crash),
// on the port given (0 for any) and over the directory given. Prints {"port":…} once listening.
//
// s3rver's ListObjectsV2 pages with DES-encrypted continuation tokens, which OpenSSL 3 offers only
// with its legacy provider: s3.ts starts this script with --openssl-legacy-provider.
//
// s3rver 3.7 answers neither AbortMultipartUpload nor ListMultipartUploads ("not implemented"),
// and coffre relies on both. They are added here over s3rver's own on-disk layout
// (<dir>/<bucket>/._S3rver_uploads/<uploadId>/{key,metadata,<part>}), in front of its router.
import { createRequire } from 'node:module';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const S3rver = require('s3rver');

const [directory, portText] = process.argv.slice(2);
if (!directory) {
  console.error('usage: s3-server.mjs <directory> [port]');
  process.exit(2);
}

const server = new S3rver({
  address: '127.0.0.1',
  port: Number(portText ?? 0),
  directory,
  silent: true,
  // Buckets are reached by path (http://127.0.0.1:port/bucket/key), never by virtual host.
  vhostBuckets: false,
});
server.middleware.unshift(multipartUploadRoutes(directory));
server.middleware.unshift(denyingBucketPolicy());
server.middleware.unshift(requestLog());

const address = await server.run();
process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => server.close(() => process.exit(0)));
}

/**
 * What the tests cannot see through S3 itself: which parts arrived, of what size, how many were
 * being received at once, and how many requests of each method came. GET /__coffre/requests answers
 * it as JSON.
 */
function requestLog() {
  const parts = [];
  const methods = {};
  let partsInFlight = 0;
  let maxPartsInFlight = 0;
  return async (ctx, next) => {
    if (ctx.path === '/__coffre/requests') {
      ctx.body = { parts, maxPartsInFlight, methods };
      return;
    }
    methods[ctx.method] = (methods[ctx.method] ?? 0) + 1;
    if (ctx.method !== 'PUT' || !('partNumber' in ctx.query)) return next();
    partsInFlight += 1;
    maxPartsInFlight = Math.max(maxPartsInFlight, partsInFlight);
    try {
      await next();
      const key = decodeURIComponent(ctx.path.split('/').slice(2).join('/'));
      parts.push({ key, partNumber: Number(ctx.query.partNumber), bytes: Number(ctx.get('content-length')), status: ctx.status });
    } finally {
      partsInFlight -= 1;
    }
  };
}

/**
 * s3rver accepts any SigV4 signature and has no bucket policies, so S3's refusal is played here:
 * every request to a bucket whose name starts with "denied-" gets S3's 403 AccessDenied.
 */
function denyingBucketPolicy() {
  return async (ctx, next) => {
    if (!ctx.path.startsWith('/denied-')) return next();
    xmlError(ctx, 403, 'AccessDenied', 'Access Denied');
  };
}

function multipartUploadRoutes(root) {
  const uploadsDir = (bucket) => join(root, bucket, '._S3rver_uploads');
  return async (ctx, next) => {
    const [, bucket, ...keyParts] = ctx.path.split('/');
    const key = decodeURIComponent(keyParts.join('/'));
    if (ctx.method === 'DELETE' && bucket && key && 'uploadId' in ctx.query) {
      const dir = join(uploadsDir(bucket), String(ctx.query.uploadId).replace(/[^0-9a-f]/g, ''));
      if (!(await exists(dir))) return xmlError(ctx, 404, 'NoSuchUpload', 'The specified upload does not exist.');
      await rm(dir, { recursive: true, force: true });
      ctx.status = 204;
      return;
    }
    if (ctx.method === 'GET' && bucket && !key && 'uploads' in ctx.query) {
      if (!(await exists(join(root, bucket)))) return xmlError(ctx, 404, 'NoSuchBucket', 'The specified bucket does not exist.');
      const prefix = String(ctx.query.prefix ?? '');
      const ids = await readdir(uploadsDir(bucket)).catch(() => []);
      const uploads = [];
      for (const id of ids) {
        const uploadKey = await readFile(join(uploadsDir(bucket), id, 'key'), 'utf8').catch(() => null);
        if (uploadKey === null || !uploadKey.startsWith(prefix)) continue;
        const info = await stat(join(uploadsDir(bucket), id));
        uploads.push(
          `<Upload><Key>${escapeXml(uploadKey)}</Key><UploadId>${id}</UploadId><Initiated>${info.birthtime.toISOString()}</Initiated><StorageClass>STANDARD</StorageClass></Upload>`,
        );
      }
      ctx.type = 'application/xml';
      ctx.body =
        '<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        `<Bucket>${escapeXml(bucket)}</Bucket><Prefix>${escapeXml(prefix)}</Prefix><MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>` +
        `${uploads.join('')}</ListMultipartUploadsResult>`;
      return;
    }
    await next();
  };
}

function xmlError(ctx, status, code, message) {
  ctx.status = status;
  ctx.type = 'application/xml';
  ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

async function exists(path) {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function escapeXml(text) {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
