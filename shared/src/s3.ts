// @coffre/shared/s3: the S3 driver and bucket archives, apart from the main entry so that processes
// load the AWS SDK only when a bucket is used.
export * from './storage/s3.js';
export * from './engine/bucket-archive.js';
