// The destination form accepts what the API accepts and flags what it refuses, checked against
// the API's own schemas. The browser is stricter in one place: an endpoint must be http(s).
import { describe, expect, test } from 'vitest';
import { destinationInputSchema, destinationUpdateSchema } from '@coffre/shared';
import type { Destination } from '../src/api/types.js';
import {
  destinationCreateBody,
  destinationFieldOfApiPath,
  destinationUpdateBody,
  emptyDestinationForm,
  formFromDestination,
  validateDestination,
  type DestinationForm,
} from '../src/lib/destination-rules.js';

const local = (change: Partial<DestinationForm> = {}): DestinationForm => ({ ...emptyDestinationForm(), name: 'nas', path: '/mnt/nas/coffre', ...change });
const s3 = (change: Partial<DestinationForm> = {}): DestinationForm => ({
  ...emptyDestinationForm(),
  kind: 's3',
  name: 'offsite',
  endpoint: 'https://minio.example.com:9000',
  bucket: 'coffre-backups',
  prefix: 'prod/db',
  accessKeyId: 'AKIAEXAMPLE',
  secretAccessKey: 'secret/key+example',
  ...change,
});

const cases: [string, DestinationForm, keyof DestinationForm | null][] = [
  ['a local directory', local(), null],
  ['a local default directory', local({ isDefault: true }), null],
  ['an S3 bucket', s3(), null],
  ['an AWS bucket without endpoint, path-style and encrypted', s3({ endpoint: '', forcePathStyle: true, serverSideEncryption: 'aws:kms' }), null],
  ['an empty name', local({ name: '' }), 'name'],
  ['a name starting with a dot', local({ name: '.hidden' }), 'name'],
  ['a name of 64 characters', local({ name: 'n'.repeat(64) }), 'name'],
  ['a relative path', local({ path: 'backups' }), 'path'],
  ['no path', local({ path: ' ' }), 'path'],
  ['a bucket name in capitals', s3({ bucket: 'Backups' }), 'bucket'],
  ['a bucket name of 2 characters', s3({ bucket: 'ab' }), 'bucket'],
  ['a prefix with ..', s3({ prefix: 'prod/../other' }), 'prefix'],
  ['an endpoint with spaces', s3({ endpoint: 'https://minio example.com' }), 'endpoint'],
  ['no access key id', s3({ accessKeyId: '' }), 'accessKeyId'],
  ['no secret access key', s3({ secretAccessKey: '' }), 'secretAccessKey'],
];

describe('destination form', () => {
  test.each(cases)('%s', (_label, form, field) => {
    const errors = validateDestination(form);
    const parsed = destinationInputSchema.safeParse(destinationCreateBody(form));
    if (field === null) {
      expect(errors).toEqual({});
      expect(parsed.error?.issues ?? []).toEqual([]);
    } else {
      expect(Object.keys(errors)).toEqual([field]);
      expect(parsed.success).toBe(false);
    }
  });

  test('an endpoint must be http(s), in the form as in the API (minio:9000 is a URL to a URL parser)', () => {
    for (const endpoint of ['minio:9000', 'ftp://minio.example.com']) {
      expect(Object.keys(validateDestination(s3({ endpoint })))).toEqual(['endpoint']);
      const parsed = destinationInputSchema.safeParse(destinationCreateBody(s3({ endpoint })));
      expect(parsed.error?.issues.map((i) => i.path.join('.'))).toEqual(['endpoint']);
    }
  });

  test('API error paths map to their fields', () => {
    expect(destinationFieldOfApiPath('path')).toBe('path');
    expect(destinationFieldOfApiPath('bucket')).toBe('bucket');
    expect(destinationFieldOfApiPath('kind')).toBeNull();
  });

  describe('editing an S3 destination', () => {
    const stored: Destination = {
      id: '0190a6f4-8f2b-7cc1-9a43-6d5b2c1e0f11',
      name: 'offsite',
      kind: 's3',
      isDefault: false,
      location: 's3://coffre-backups/prod at https://minio.example.com',
      config: { endpoint: 'https://minio.example.com', region: 'eu-west-3', bucket: 'coffre-backups', prefix: 'prod', forcePathStyle: true },
      hasCredentials: true,
      createdAt: '2026-05-20T10:00:00.000Z',
    };

    test('starts from its settings with empty credentials, which are then kept', () => {
      const form = formFromDestination(stored);
      expect(form).toMatchObject({ region: 'eu-west-3', bucket: 'coffre-backups', prefix: 'prod', forcePathStyle: true, accessKeyId: '', secretAccessKey: '' });
      expect(validateDestination(form, stored)).toEqual({});
      const body = destinationUpdateBody({ ...form, region: 'eu-west-1' });
      expect(body).not.toHaveProperty('accessKeyId');
      expect(body).not.toHaveProperty('secretAccessKey');
      expect(destinationUpdateSchema.safeParse(body).success).toBe(true);
    });

    test('a new secret alone is sent alone', () => {
      const body = destinationUpdateBody({ ...formFromDestination(stored), secretAccessKey: 'rotated' });
      expect(body).toMatchObject({ secretAccessKey: 'rotated' });
      expect(body).not.toHaveProperty('accessKeyId');
    });

    test('an endpoint cannot be emptied (the API has no way to remove it)', () => {
      expect(Object.keys(validateDestination({ ...formFromDestination(stored), endpoint: '' }, stored))).toEqual(['endpoint']);
    });
  });
});
