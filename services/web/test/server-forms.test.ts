// The forms of whole-server sources: the source form's scope and patterns, checked by the contract
// as the API checks them, and the server restore dialog's request bodies and problems.
import { describe, expect, it } from 'vitest';
import { restoreRequestSchema, sourceInputSchema, sourceUpdateSchema, type SourceView } from '@coffre/contract';
import { patternsOf, sourceCreateBody, sourceForm, sourceProblems, sourceUpdateBody } from '../src/forms/source';
import { serverRestoreProblems, serverRestoreRequest, type ServerRestoreChoice } from '../src/forms/server-restore';

const SOURCE = '0190f1e2-7c4a-7b3e-9d2f-1a2b3c4d5e6f';
const URL = 'postgresql://backup@db.example.com:5432/postgres';

const stored: SourceView = {
  id: SOURCE,
  name: 'cluster',
  kind: 'postgres',
  url: 'postgresql://backup:****@db.example.com:5432/postgres',
  scope: 'server',
  includeDatabases: ['shop', 'app_*'],
  excludeDatabases: ['postgres'],
  createdAt: '2026-11-30T05:00:00.000Z',
  updatedAt: '2026-11-30T05:00:00.000Z',
};

describe('the source form: one database or the whole server', () => {
  it('a whole server is sent with its patterns, split at commas and lines, blanks left out; the API’s schema accepts it', () => {
    const form = { ...sourceForm(null), name: 'cluster', url: URL, scope: 'server' as const, include: ' shop, app_*\n\n', exclude: 'postgres,' };
    expect(sourceCreateBody(form)).toEqual({ name: 'cluster', url: URL, scope: 'server', includeDatabases: ['shop', 'app_*'], excludeDatabases: ['postgres'] });
    expect(sourceProblems(form, null)).toEqual({});
    expect(sourceInputSchema.safeParse(sourceCreateBody(form)).success).toBe(true);
  });

  it('one database sends no scope and no patterns, whatever was typed in them before', () => {
    const form = { ...sourceForm(null), name: 'shop', url: URL, scope: 'database' as const, include: 'shop' };
    expect(sourceCreateBody(form)).toEqual({ name: 'shop', url: URL });
  });

  it('a pattern longer than a database name is refused under its field, as the API refuses it', () => {
    const form = { ...sourceForm(null), name: 'cluster', url: URL, scope: 'server' as const, include: `shop, ${'x'.repeat(64)}` };
    expect(sourceProblems(form, null)).toEqual({ include: expect.stringMatching(/^Include .*63/) });
    expect(sourceInputSchema.safeParse(sourceCreateBody(form)).success).toBe(false);
    expect(patternsOf('a,,b\n c ')).toEqual(['a', 'b', 'c']);
  });

  it('an edit shows the stored scope and patterns, and sends only what changed; an emptied list is sent empty so that it clears', () => {
    const form = sourceForm(stored);
    expect({ scope: form.scope, include: form.include, exclude: form.exclude }).toEqual({ scope: 'server', include: 'shop, app_*', exclude: 'postgres' });
    expect(sourceUpdateBody(form, stored)).toEqual({});
    expect(sourceUpdateBody({ ...form, exclude: '' }, stored)).toEqual({ excludeDatabases: [] });
    expect(sourceUpdateBody({ ...form, scope: 'database' }, stored)).toEqual({ scope: 'database' });
    expect(sourceUpdateSchema.safeParse(sourceUpdateBody({ ...form, include: 'crm' }, stored)).data).toEqual({ includeDatabases: ['crm'] });
  });
});

describe('the restore dialog of a server backup', () => {
  const one: ServerRestoreChoice = { what: 'database', database: 'shop', sourceId: SOURCE, targetDatabase: '' };

  it('one database: under its own name or a new one, into the chosen source’s server', () => {
    expect(serverRestoreRequest(one, 'b1')).toEqual({ confirm: 'b1', database: 'shop', targetSourceId: SOURCE });
    expect(serverRestoreRequest({ ...one, targetDatabase: ' shop_copy ' }, 'b1')).toEqual({ confirm: 'b1', database: 'shop', targetSourceId: SOURCE, targetDatabase: 'shop_copy' });
    expect(serverRestoreProblems(one)).toEqual({});
    expect(restoreRequestSchema.safeParse(serverRestoreRequest(one, 'b1')).success).toBe(true);
  });

  it('a database whose name cannot be created as typed must be given a new name; a bad new name is refused in the contract’s words', () => {
    expect(serverRestoreProblems({ ...one, database: 'café_ünï' })).toEqual({ targetDatabase: '"café_ünï" cannot be created under its own name here: name the database to restore it into.' });
    expect(serverRestoreProblems({ ...one, database: 'café_ünï', targetDatabase: 'cafe' })).toEqual({});
    expect(serverRestoreProblems({ ...one, targetDatabase: '1-copy' }).targetDatabase).toMatch(/must be 1–63 letters/);
  });

  it('every database and the globals: allDatabases into a source, which must be picked', () => {
    const all: ServerRestoreChoice = { ...one, what: 'all', targetDatabase: 'ignored' };
    expect(serverRestoreRequest(all, 'b1')).toEqual({ confirm: 'b1', allDatabases: true, targetSourceId: SOURCE });
    expect(serverRestoreProblems({ ...all, sourceId: '' })).toEqual({ sourceId: 'Pick the server source to restore into.' });
  });
});
