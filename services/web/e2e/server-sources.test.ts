// Whole-server sources in the web UI (issue 17), in Debian's chromium against the real API, workers,
// PostgreSQL and Redis: a server source created with the form (include and exclude patterns, the
// API's sentence shown when it refuses), its card saying what it backs up, a server backup's details
// listing each database it holds with sizes and counts and its globals with the role passwords in
// them, no Verify offered, and one of its databases restored from the UI into a new database that
// then holds the same rows. The server is the shared test server; the patterns select only the
// databases this test creates. axe with each dialog open; screenshots at 1440 and 390 px, light and dark.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { adminQuery, withClient } from '../../../test/support/pg.js';
import { databaseUrl, uniqueName } from '../../../test/support/env.js';
import { DESKTOP, PHONE, launchBrowser, screenshot, type BrowserSession } from './support/browser.js';
import { axeViolations } from './support/axe.js';
import { createWebStack, type WebStack } from './support/web-stack.js';
import { dismissToasts, expectConsoleErrors, logIn, toast, until } from './support/ui.js';

interface ApiSource {
  id: string;
  name: string;
  scope?: string;
  includeDatabases?: string[];
  excludeDatabases?: string[];
}
interface ApiRun {
  id: string;
  name: string;
  status: string;
  errorMessage?: string | null;
  artifacts?: { kind: string }[];
}

// Every database of this test starts with BASE: the include pattern selects them and nothing else.
const BASE = uniqueName('coffre_e2e_srv');
const SHOP = `${BASE}_shop`;
const STOCK = `${BASE}_stock`;
const SCRATCH = `${BASE}_scratch`;
const COPY = `${BASE}_copy`;

let web: WebStack;
let session: BrowserSession;
let admin: { username: string; password: string };
let page: Page;
let source: ApiSource;
let backup: ApiRun;
const violations: string[] = [];

beforeAll(async () => {
  web = await createWebStack();
  web.stack.startWorkers();
  session = await launchBrowser();
  admin = await web.user('admin');
  for (const [name, rows] of [[SHOP, 120], [STOCK, 345], [SCRATCH, 7]] as const) {
    await adminQuery(`CREATE DATABASE "${name}"`);
    await withClient(databaseUrl(name), async (client) => {
      await client.query('CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL, price numeric(10,2))');
      await client.query(`INSERT INTO items SELECT g, 'item ' || g || ' – ✓', g * 0.25 FROM generate_series(1, ${rows}) g`);
    });
  }
  ({ page } = await session.newPage(DESKTOP, { bypassCSP: true }));
  page.setDefaultTimeout(60_000);
  await logIn(page, web.url, admin);
}, 180_000);

afterAll(async () => {
  await session?.close();
  await web?.close();
  const ours = await adminQuery<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [BASE]);
  for (const { datname } of ours.rows) await adminQuery(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
});

afterEach(() => {
  expect(session.errors).toEqual([]);
});

function dialog(on: Page, title: string) {
  return on.locator('[role=dialog]', { has: on.locator('h2', { hasText: title }) });
}

async function noViolations(on: Page, what: string): Promise<void> {
  for (const v of await axeViolations(on)) violations.push(`${what}: ${v.id} (${v.help}) at ${v.targets.slice(0, 3).join(', ')}`);
}

/**
 * At 1440 and 390 px, light and dark, after logging in: `steps` brings each view up and calls `look`
 * with its name, which takes the screenshot (and runs axe on the desktop ones).
 */
async function everyLook(steps: (on: Page, look: (name: string) => Promise<void>) => Promise<void>): Promise<void> {
  for (const colorScheme of ['light', 'dark'] as const) {
    for (const viewport of [DESKTOP, PHONE]) {
      const { context, page: on } = await session.newPage(viewport, { colorScheme, bypassCSP: true });
      on.setDefaultTimeout(60_000);
      await logIn(on, web.url, admin);
      await steps(on, async (name) => {
        if (viewport === DESKTOP) await noViolations(on, `${name}, ${colorScheme}`);
        await screenshot(on, name);
      });
      await context.close();
    }
  }
}

async function openBackup(on: Page): Promise<void> {
  await on.goto(`${web.url}/history/${backup.id}`);
  await on.locator('[data-testid=server-database]').first().waitFor();
}

describe('whole-server sources in the web UI', () => {
  test('a server source is created with the form: scope, include and exclude patterns; a refusal shows the API’s sentence; its card says what it backs up', async () => {
    await page.goto(`${web.url}/sources`);
    await page.getByRole('button', { name: 'Add a source' }).click();
    const form = dialog(page, 'Add a source');
    await form.locator('#source-name').fill('default');
    await form.locator('#source-url').fill(databaseUrl('postgres'));
    expect(await form.locator('#source-include').count()).toBe(0);
    await form.locator('input[name=source-scope][value=server]').check();
    // A pattern longer than a database name can be is refused as the API would, under its field.
    await form.locator('#source-include').fill(`${BASE}_*, ${'x'.repeat(64)}`);
    await form.locator('#source-exclude').fill('*_scratch');
    await form.getByRole('button', { name: 'Add' }).click();
    await form.locator('#source-include[aria-invalid=true]').waitFor();
    expect(await form.locator('#source-include-error').innerText()).toMatch(/^Include .*63/);
    await form.locator('#source-include').fill(`${BASE}_*`);
    await noViolations(page, 'the server source form');
    // The name is taken (the stack's own source): the API refuses, and its sentence shows.
    await form.getByRole('button', { name: 'Add' }).click();
    const refusal = form.locator('[data-testid=api-error]');
    await refusal.waitFor();
    expect(await refusal.innerText()).toMatch(/"default".*already/);
    expectConsoleErrors(session, /status of 409/, 1);
    await form.locator('#source-name').fill('whole-server');
    await form.getByRole('button', { name: 'Add' }).click();
    await toast(page, 'whole-server is added.');
    await dismissToasts(page);

    source = (await web.api<{ items: ApiSource[] }>('GET', '/api/sources')).body.items.find((s) => s.name === 'whole-server')!;
    expect(source).toMatchObject({ scope: 'server', includeDatabases: [`${BASE}_*`], excludeDatabases: ['*_scratch'] });
    const card = page.locator('[data-testid=source-card][data-name=whole-server]');
    expect(await card.locator('[data-testid=source-scope-badge]').innerText()).toBe('whole server');
    expect(await card.locator('[data-testid=source-scope-summary]').innerText()).toBe(`Every database matching ${BASE}_*, except *_scratch, and the globals.`);
    expect(await page.locator('[data-testid=source-card][data-name=default] [data-testid=source-scope-badge]').innerText()).toBe('one database');
    // The edit form shows the scope and patterns as stored.
    await page.getByRole('button', { name: 'Edit whole-server' }).click();
    const edit = dialog(page, 'Edit whole-server');
    expect(await edit.locator('input[name=source-scope][value=server]').isChecked()).toBe(true);
    expect(await edit.locator('#source-exclude').inputValue()).toBe('*_scratch');
    await page.keyboard.press('Escape');
  });

  test('a server backup lists each database it holds with sizes and counts, and its globals with the role passwords; no Verify is offered', async () => {
    const started = await web.api<ApiRun>('POST', '/api/backups', { sourceId: source.id });
    expect(started.status).toBe(202);
    const t0 = Date.now();
    backup = await until(async () => (await web.api<ApiRun>('GET', `/api/backups/${started.body.id}`)).body, (b) => b.status === 'completed' || b.status === 'failed', 180_000, 'the server backup');
    expect({ status: backup.status, error: backup.errorMessage }).toEqual({ status: 'completed', error: null });
    console.log(`server backup took ${Date.now() - t0} ms`);

    await openBackup(page);
    const details = page.locator('[data-testid=backup-details]');
    const rows = await details.locator('[data-testid=server-database]').evaluateAll((all) => all.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    expect(rows.map(([name, , tables, records]) => [name, tables, records])).toEqual([
      [SHOP, '1', '120'],
      [STOCK, '1', '345'],
    ]);
    for (const [, size] of rows) expect(size).toMatch(/^[\d.]+ (B|KB|KiB|kB)$/);
    const globals = details.locator('[data-testid=server-globals]');
    expect(await globals.getAttribute('data-role-passwords')).toBe('true');
    expect(await globals.innerText()).toMatch(/^Globals \(roles, memberships, tablespaces\): [\d.]+ \w+, from pg_dumpall .+\. Role passwords are included\.$/);
    // A verification cannot restore a whole server into one scratch database: it is not offered.
    expect(await details.getByRole('button', { name: 'Verify' }).count()).toBe(0);
    expect(await details.getByRole('button', { name: 'Restore…' }).count()).toBe(1);
    // Its downloads are the ones the API serves one by one: the manifest and RESTORE.md.
    expect(await details.locator('[data-testid=artifact-downloads] a').evaluateAll((all) => all.map((a) => a.getAttribute('data-kind')).sort())).toEqual(['manifest', 'restore-notes']);
    await noViolations(page, 'the server backup details');
    // Nor from the verifications page: the backups offered there leave the server's out.
    await page.keyboard.press('Escape');
    await page.goto(`${web.url}/verifications`);
    await page.getByRole('button', { name: 'Verify a backup' }).click();
    await dialog(page, 'Verify a backup').getByText('No completed backup to verify yet.').waitFor();
    await page.keyboard.press('Escape');
  });

  test('one database of it is restored from the UI into a new database, followed from the toast, and holds the same rows', async () => {
    await openBackup(page);
    await page.locator('[data-testid=backup-details]').getByRole('button', { name: 'Restore…' }).click();
    const form = dialog(page, `Restore ${backup.name}`);
    expect(await form.locator('#server-restore-database option').allInnerTexts()).toEqual([SHOP, STOCK]);
    await form.locator('#server-restore-database').selectOption(STOCK);
    await form.locator('#server-restore-source').selectOption(source.id);
    await form.locator('#server-restore-name').fill(COPY);
    // Restore waits for the backup's name, typed exactly.
    await form.locator('#server-restore-confirm').fill(backup.name.slice(0, -1));
    expect(await form.getByRole('button', { name: 'Restore' }).isDisabled()).toBe(true);
    await form.locator('#server-restore-confirm').fill(backup.name);
    await noViolations(page, 'the server restore dialog');
    await form.getByRole('button', { name: 'Restore' }).click();
    const queued = page.locator('[data-testid=toast]', { hasText: `The restore of ${backup.name} into database ${COPY} on whole-server is queued.` });
    await queued.getByRole('link', { name: 'Follow it' }).click();
    await page.waitForURL(/\/restores\/[0-9a-f-]{36}$/);
    await page.locator('[data-testid=restore-details][data-status=completed]').waitFor({ timeout: 180_000 });
    expect(await page.locator('[data-testid=restore-into]').innerText()).toContain(COPY);
    const rows = (url: string) => withClient(url, async (client) => (await client.query('SELECT id, label, price::text FROM items ORDER BY id')).rows);
    const restored = await rows(databaseUrl(COPY));
    expect(restored).toHaveLength(345);
    expect(restored).toEqual(await rows(databaseUrl(STOCK)));
  });

  test('the server source form, the server backup’s details and its restore dialog: axe clean, at 1440 and 390 px, light and dark', async () => {
    await everyLook(async (on, look) => {
      await on.goto(`${web.url}/sources`);
      await on.locator('[data-testid=source-card][data-name=whole-server] [data-testid=source-scope-summary]').waitFor();
      await look('server-sources');
      await on.getByRole('button', { name: 'Edit whole-server' }).click();
      await dialog(on, 'Edit whole-server').locator('#source-include').waitFor();
      await look('server-source-form');
      await on.keyboard.press('Escape');
      await openBackup(on);
      await look('server-backup-details');
      await on.locator('[data-testid=backup-details]').getByRole('button', { name: 'Restore…' }).click();
      // Every database and the globals: only server sources are offered as the target.
      const form = dialog(on, `Restore ${backup.name}`);
      await form.locator('input[name=server-restore-what][value=all]').check();
      await form.locator('#server-restore-source option', { hasText: 'whole-server' }).waitFor({ state: 'attached' });
      expect(await form.locator('#server-restore-source option').allInnerTexts()).toEqual(['Pick a source…', 'whole-server (where it came from)']);
      await look('server-restore-dialog');
    });
    expect(violations).toEqual([]);
  });
});
