// The flags of an S3 bucket, shared by bucket sources and S3 destinations, and the API body they make.
import { Option, type Command } from 'commander';
import { secretValue } from './secret-input.js';

export interface BucketFlags {
  bucket?: string;
  endpoint?: string;
  region?: string;
  prefix?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  pathStyle?: boolean;
  sse?: string;
}

export function addBucketOptions(command: Command, options: { serverSideEncryption?: boolean } = {}): Command {
  command
    .option('--bucket <bucket>', 'S3 bucket name')
    .option('--endpoint <url>', 'S3-compatible endpoint, e.g. https://minio.example.com:9000 (default: AWS)')
    .option('--region <region>', 'bucket region (default us-east-1)')
    .option('--prefix <prefix>', 'key prefix inside the bucket')
    .option('--access-key-id <id>', 'access key ID')
    .option('--secret-access-key <key>', 'secret access key; "-" reads it from standard input (arguments show in ps)')
    .option('--path-style', 'path-style requests (MinIO, Ceph, s3rver)');
  if (options.serverSideEncryption) command.addOption(new Option('--sse <kind>', 'server-side encryption').choices(['AES256', 'aws:kms']));
  return command;
}

export function hasBucketFlags(flags: BucketFlags): boolean {
  return [flags.bucket, flags.endpoint, flags.region, flags.prefix, flags.accessKeyId, flags.secretAccessKey, flags.pathStyle, flags.sse].some((v) => v !== undefined);
}

/** The bucket fields given, as the API names them; fields not given are left out. */
export async function bucketBody(flags: BucketFlags): Promise<Record<string, unknown>> {
  const body: Record<string, unknown> = {
    bucket: flags.bucket,
    endpoint: flags.endpoint,
    region: flags.region,
    prefix: flags.prefix,
    accessKeyId: flags.accessKeyId,
    secretAccessKey: await secretValue(flags.secretAccessKey, '--secret-access-key'),
    forcePathStyle: flags.pathStyle ? true : undefined,
    serverSideEncryption: flags.sse,
  };
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined));
}
