// The restore dialog sends what RestoreRequest accepts, and flags what it refuses.
import { describe, expect, test } from 'vitest';
import { restoreRequestSchema } from '@coffre/shared';
import { restoreProblems, restoreRequest, type RestoreChoice } from '../src/lib/restore-rules.js';

const sourceId = '0190a6f4-8f2b-7cc1-9a43-6d5b2c1e0f11';
const choice = (change: Partial<RestoreChoice>): RestoreChoice => ({ artifact: 'database', target: 'same', sourceId: '', database: '', path: '', bucketSourceId: '', prefix: '', ...change });

describe('restore choice', () => {
  test.each([
    ['the database it came from', choice({}), { confirm: 'b', artifact: 'database' }],
    ['another source, its own database', choice({ target: 'source', sourceId }), { confirm: 'b', artifact: 'database', targetSourceId: sourceId }],
    ['another source and a new database name', choice({ target: 'source', sourceId, database: 'copy_1' }), { confirm: 'b', artifact: 'database', targetSourceId: sourceId, targetDatabase: 'copy_1' }],
    ['a new database on its server', choice({ target: 'new', database: '_scratch-2' }), { confirm: 'b', artifact: 'database', targetDatabase: '_scratch-2' }],
    ['files into a directory', choice({ artifact: 'files', path: ' /srv/restored ' }), { confirm: 'b', artifact: 'files', targetPath: '/srv/restored' }],
    ['a bucket under a prefix', choice({ artifact: 'bucket', bucketSourceId: sourceId, prefix: 'copy/' }), { confirm: 'b', artifact: 'bucket', targetSourceId: sourceId, targetPrefix: 'copy/' }],
    ['a bucket under its own prefix', choice({ artifact: 'bucket', bucketSourceId: sourceId }), { confirm: 'b', artifact: 'bucket', targetSourceId: sourceId }],
  ])('%s', (_label, value, body) => {
    expect(restoreProblems(value)).toEqual({});
    expect(restoreRequest(value, 'b')).toEqual(body);
    expect(restoreRequestSchema.safeParse(body).success).toBe(true);
  });

  test.each([
    ['another source not picked', choice({ target: 'source' }), 'sourceId'],
    ['a new database without a name', choice({ target: 'new' }), 'database'],
    ['a database name starting with a digit', choice({ target: 'new', database: '1-copy' }), 'database'],
    ['a database name of 64 characters', choice({ target: 'source', sourceId, database: 'd'.repeat(64) }), 'database'],
    ['files without a directory', choice({ artifact: 'files' }), 'path'],
    ['files into a relative directory', choice({ artifact: 'files', path: 'restored' }), 'path'],
    ['a bucket without a source', choice({ artifact: 'bucket' }), 'bucketSourceId'],
    ['a bucket prefix with ..', choice({ artifact: 'bucket', bucketSourceId: sourceId, prefix: 'a/../b' }), 'prefix'],
  ] as const)('%s', (_label, value, field) => {
    expect(Object.keys(restoreProblems(value))).toEqual([field]);
    if (field !== 'sourceId' && field !== 'bucketSourceId' && !(field === 'database' && !value.database) && !(field === 'path' && !value.path)) {
      expect(restoreRequestSchema.safeParse(restoreRequest(value, 'b')).success).toBe(false);
    }
  });
});
