// What users reached for and did not find (issue 18, item 4), in Debian's chromium against the real
// API, workers, PostgreSQL, Redis and an S3 server: editing a source (an empty password keeps the
// stored one), adding a bucket source, changing a user's role and resetting their password, the
// downloads of every artifact, verifying from the verifications page with every table's rows, a link
// to follow a queued restore, one dialog at a time, History's Reset, and a notification channel whose
// deliveries all fail. axe checks every new dialog; screenshots at 1440 and 390 px, light and dark.
import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { adminQuery } from '../../../test/support/pg.js';
import { uniqueName } from '../../../test/support/env.js';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, startS3Server, type S3Server } from '../../../test/support/s3.js';
import { DESKTOP, PHONE, launchBrowser, screenshot, type BrowserSession } from './support/browser.js';
import { axeViolations } from './support/axe.js';
import { createWebStack, type WebStack } from './support/web-stack.js';
import { dismissToasts, logIn, toast, until } from './support/ui.js';

interface ApiBackup {
  id: string;
  name: string;
  status: string;
  artifacts?: { kind: string; destination: string; sizeBytes: number }[];
}
interface ApiSource {
  id: string;
  name: string;
  kind: string;
  url: string;
}

let web: WebStack;
let s3: S3Server;
let session: BrowserSession;
let admin: { username: string; password: string };
let page: Page;
let refusing: Server;
let refusingUrl = '';
const scratch: string[] = [];
const restoredDatabases: string[] = [];
let filesBackup: ApiBackup;
let verificationId = '';
const violations: string[] = [];

beforeAll(async () => {
  [web, s3] = await Promise.all([createWebStack(), startS3Server()]);
  web.stack.startWorkers();
  session = await launchBrowser();
  admin = await web.user('admin');
  // A webhook receiver that refuses every delivery.
  refusing = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(500).end('receiver is down'));
  });
  refusing.listen(0, '127.0.0.1');
  await once(refusing, 'listening');
  refusingUrl = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}/hook`;
  ({ page } = await session.newPage(DESKTOP, { bypassCSP: true }));
  page.setDefaultTimeout(60_000);
  await logIn(page, web.url, admin);
});

afterAll(async () => {
  await session?.close();
  refusing?.closeAllConnections();
  await new Promise<void>((done) => (refusing ? refusing.close(() => done()) : done()));
  await web?.close();
  await s3?.stop();
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
  for (const name of restoredDatabases) await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
});

afterEach(() => {
  expect(session.errors).toEqual([]);
});

async function scratchDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `coffre-e2e-${prefix}-`));
  scratch.push(dir);
  return dir;
}

/** axe on what the page shows now (desktop only: the rules do not change with the width). */
async function noViolations(on: Page, what: string): Promise<void> {
  for (const v of await axeViolations(on)) violations.push(`${what}: ${v.id} (${v.help}) at ${v.targets.slice(0, 3).join(', ')}`);
}

async function sources(): Promise<ApiSource[]> {
  return (await web.api<{ items: ApiSource[] }>('GET', '/api/sources')).body.items;
}

function dialog(on: Page, title: string) {
  return on.locator('[role=dialog]', { has: on.locator('h2', { hasText: title }) });
}

describe('the actions users reached for', () => {
  test('edits a source: its name is filled in, its URL shown masked, an empty password keeps the stored one and a new one goes into the URL', async () => {
    const created = await web.api<ApiSource>('POST', '/api/sources', { name: 'spare', url: web.sourceUrl });
    expect(created.status).toBe(201);
    await page.goto(`${web.url}/sources`);
    await page.getByRole('button', { name: 'Edit spare' }).click();
    const form = dialog(page, 'Edit spare');
    expect(await form.locator('#source-name').inputValue()).toBe('spare');
    expect(await form.locator('[data-testid=source-url-now]').innerText()).toBe(created.body.url);
    expect(await form.locator('#source-password').inputValue()).toBe('');
    await noViolations(page, 'the source edit form');
    await form.locator('#source-name').fill('spare-db');
    await form.getByRole('button', { name: 'Save' }).click();
    await toast(page, 'spare-db is saved.');
    const renamed = (await sources()).find((s) => s.id === created.body.id)!;
    expect(renamed.name).toBe('spare-db');
    expect(renamed.url).toBe(created.body.url);

    await page.getByRole('button', { name: 'Edit spare-db' }).click();
    const again = dialog(page, 'Edit spare-db');
    await again.locator('#source-password').fill('n3w-secret-pw');
    await again.getByRole('button', { name: 'Save' }).click();
    // The first save's toast, with the same words, may still be on screen: the dialog closing is what
    // says this save was answered.
    await again.waitFor({ state: 'hidden' });
    await toast(page, 'spare-db is saved.');
    const withPassword = (await sources()).find((s) => s.id === created.body.id)!;
    expect(withPassword.url).toMatch(/^postgresql:\/\/postgres:\*\*\*@127\.0\.0\.1:5432\//);
    expect(withPassword.url).not.toContain('n3w-secret-pw');
    // The rest of the URL is kept: the server (trust authentication) still answers.
    await page.getByRole('button', { name: 'Test connection of spare-db' }).click();
    await page.locator('[data-testid=source-card][data-name=spare-db] [data-testid=source-test-result]', { hasText: '✓' }).waitFor();
  });

  test('adds a bucket source with the form, whose connection test reaches the bucket, and changes its prefix', async () => {
    await s3.createBucket('uploads');
    await page.goto(`${web.url}/sources`);
    await page.getByRole('button', { name: 'Add a source' }).click();
    const form = dialog(page, 'Add a source');
    await form.locator('#source-name').fill('uploads');
    await form.locator('#source-kind').selectOption('s3');
    await form.locator('#source-endpoint').fill(s3.endpoint);
    await form.locator('#source-bucket').fill('uploads');
    await form.locator('#source-key').fill(S3_ACCESS_KEY_ID);
    await form.locator('#source-secret').fill(S3_SECRET_ACCESS_KEY);
    await form.locator('label.check', { hasText: 'Path-style' }).locator('input').check();
    await noViolations(page, 'the bucket source form');
    await form.getByRole('button', { name: 'Add' }).click();
    await toast(page, 'uploads is added.');
    const card = page.locator('[data-testid=source-card][data-name=uploads]');
    expect(await card.locator('.badge').innerText()).toBe('s3');
    await page.getByRole('button', { name: 'Test connection of uploads' }).click();
    await card.locator('[data-testid=source-test-result]', { hasText: '✓' }).waitFor();

    await page.getByRole('button', { name: 'Edit uploads' }).click();
    const edit = dialog(page, 'Edit uploads');
    await edit.locator('#source-prefix').fill('invoices/');
    await edit.getByRole('button', { name: 'Save' }).click();
    await toast(page, 'uploads is saved.');
    const saved = (await sources()).find((s) => s.name === 'uploads')!;
    expect(saved.kind).toBe('s3');
    expect(saved.url).toBe(`s3://uploads/invoices/ at ${s3.endpoint}`);
    // The credentials left empty were kept: the bucket still answers.
    await page.getByRole('button', { name: 'Test connection of uploads' }).click();
    await card.locator('[data-testid=source-test-result]', { hasText: '✓' }).waitFor();
  });

  test('changes a user’s role and resets their password: their open session ends, the old password no longer logs in, the new one does', async () => {
    const viewer = await web.user('viewer');
    const theirs = await session.newPage(DESKTOP);
    await logIn(theirs.page, web.url, viewer);

    await page.goto(`${web.url}/users`);
    await page.getByRole('button', { name: `Edit ${viewer.username}` }).click();
    const form = dialog(page, `Edit ${viewer.username}`);
    expect(await form.locator('#user-edit-role').inputValue()).toBe('viewer');
    await form.locator('#user-edit-role').selectOption('operator');
    // Too short: said under the field, nothing sent.
    await form.locator('#user-edit-password').fill('short');
    await form.locator('#user-edit-password-error', { hasText: /at least 10/ }).waitFor();
    await noViolations(page, 'the user edit form');
    const newPassword = 'a brand new passphrase';
    await form.locator('#user-edit-password').fill(newPassword);
    await form.getByRole('button', { name: 'Save' }).click();
    await toast(page, `${viewer.username} is operator; the new password is set and their sessions ended.`);
    await page.locator(`[data-testid=user-row][data-name="${viewer.username}"] .badge`, { hasText: 'operator' }).waitFor();

    // Their page, open before the reset, is sent to the login form at its next request.
    await theirs.page.reload();
    await theirs.page.locator('input[name=username]').waitFor();
    // The logged-out page's own requests were refused (401), as they should be: those errors are expected.
    session.errors.splice(0, session.errors.length, ...session.errors.filter((error) => !/status of 401/.test(error)));
    const login = (password: string) =>
      fetch(`${web.url}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: web.url }, body: JSON.stringify({ username: viewer.username, password }) });
    expect((await login(viewer.password)).status).toBe(401);
    expect((await login(newPassword)).status).toBe(200);
    const audit = await web.api<{ items: { action: string; summary: unknown }[] }>('GET', '/api/audit?action=user.update&pageSize=5');
    expect(audit.body.items[0]?.action).toBe('user.update');
    expect(JSON.stringify(audit.body.items[0]?.summary)).not.toContain(newPassword);
    await theirs.context.close();
  });

  test('downloads the dump, the manifest, RESTORE.md and the files archive from a backup’s details, each the size the backup recorded', async () => {
    const files = await scratchDir('files');
    await mkdir(join(files, 'uploads'), { recursive: true });
    await writeFile(join(files, 'uploads', 'invoice.txt'), 'invoice 42\n'.repeat(200));
    const source = (await sources()).find((s) => s.name === 'default')!;
    const configuration = await web.api<{ id: string }>('POST', '/api/configurations', { name: 'app-files', sourceId: source.id, includePaths: [files], schedule: { kind: 'manual', timezone: 'UTC' } });
    expect(configuration.status).toBe(201);
    const started = await web.api<ApiBackup>('POST', `/api/configurations/${configuration.body.id}/run`);
    expect(started.status).toBe(202);
    filesBackup = await until(async () => (await web.api<ApiBackup>('GET', `/api/backups/${started.body.id}`)).body, (b) => b.status === 'completed' || b.status === 'failed', 120_000, 'the files backup');
    expect(filesBackup.status).toBe('completed');
    const kinds = [...new Set(filesBackup.artifacts!.map((a) => a.kind))];
    expect(kinds).toEqual(expect.arrayContaining(['database', 'manifest', 'files']));

    await page.goto(`${web.url}/history/${filesBackup.id}`);
    const links = page.locator('[data-testid=artifact-downloads] a');
    await links.first().waitFor();
    expect(await links.evaluateAll((all) => all.map((a) => a.getAttribute('data-kind')))).toEqual(kinds);
    const words: Record<string, string> = { database: 'the database dump', files: 'the files archive', manifest: 'the manifest', 'restore-notes': 'RESTORE.md' };
    const dir = await scratchDir('downloads');
    for (const kind of kinds) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: `Download ${words[kind]} of ${filesBackup.name}` }).click()]);
      const path = join(dir, kind);
      await download.saveAs(path);
      expect((await stat(path)).size, kind).toBe(filesBackup.artifacts!.find((a) => a.kind === kind)!.sizeBytes);
    }
    await screenshot(page, 'details-downloads');
    await dismissToasts(page);
  });

  test('shows one dialog at a time: a confirmation opened from the details hides them until it closes', async () => {
    await page.goto(`${web.url}/history/${filesBackup.id}`);
    const details = page.locator('[data-testid=backup-details]');
    await details.waitFor();
    await details.getByRole('button', { name: 'Delete' }).click();
    await dialog(page, `Delete ${filesBackup.name}?`).waitFor();
    expect(await page.locator('[role=dialog]:visible').count()).toBe(1);
    expect(await details.isVisible()).toBe(false);
    await noViolations(page, 'a confirmation over the details');
    await page.keyboard.press('Escape');
    await details.waitFor({ state: 'visible' });
    expect(await page.locator('[role=dialog]:visible').count()).toBe(1);
    await page.keyboard.press('Escape');
    await page.locator('[role=dialog]').waitFor({ state: 'detached' });
  });

  test('verifies a backup from the verifications page and shows every table’s rows, recorded and found', async () => {
    await page.goto(`${web.url}/verifications`);
    await page.getByRole('button', { name: 'Verify a backup' }).click();
    const picker = dialog(page, 'Verify a backup');
    await picker.locator('#verify-backup option').first().waitFor({ state: 'attached' });
    await picker.locator('#verify-backup').selectOption({ value: filesBackup.id });
    await noViolations(page, 'the verify dialog');
    await screenshot(page, 'verify-dialog');
    await picker.getByRole('button', { name: 'Verify' }).click();
    await toast(page, `The verification of ${filesBackup.name} is queued.`);
    await page.waitForURL(/\/verifications\/[0-9a-f-]{36}$/);
    verificationId = page.url().split('/').pop()!;
    const details = page.locator('[data-testid=verification-details][data-status=completed]');
    await details.waitFor({ timeout: 120_000 });
    const rows = await details.locator('[data-testid=verification-table]').evaluateAll((all) => all.map((tr) => [tr.getAttribute('data-table'), ...[...tr.querySelectorAll('td')].slice(1, 3).map((td) => td.textContent)]));
    expect(rows).toEqual([
      ['public.customers', '500', '500'],
      ['public.orders', '2,000', '2,000'],
    ]);
    expect(await details.locator('[data-testid=verification-table][data-same=true]').count()).toBe(2);
    await noViolations(page, 'the verification details');
    await page.keyboard.press('Escape');
  });

  test('after queueing a restore, its toast links to the restore, which opens its details', async () => {
    const into = uniqueName('coffre_e2e_follow');
    restoredDatabases.push(into);
    await page.goto(`${web.url}/history/${filesBackup.id}`);
    await page.locator('[data-testid=backup-details]').getByRole('button', { name: 'Restore…' }).click();
    const form = dialog(page, `Restore ${filesBackup.name}`);
    await form.locator('input[name=target][value=new]').check();
    await form.locator('#restore-database').fill(into);
    await form.locator('#restore-confirm').fill(filesBackup.name);
    await form.getByRole('button', { name: 'Restore' }).click();
    const queued = page.locator('[data-testid=toast]', { hasText: `The restore of ${filesBackup.name} into ${into} is queued.` });
    await queued.getByRole('link', { name: 'Follow it' }).click();
    await page.waitForURL(/\/restores\/[0-9a-f-]{36}$/);
    const details = page.locator('[data-testid=restore-details]');
    await details.waitFor();
    expect(await details.locator('[data-testid=restore-into]').innerText()).toContain(into);
    await page.locator('[data-testid=restore-details][data-status=completed]').waitFor({ timeout: 120_000 });
    await page.keyboard.press('Escape');
  });

  test('History’s Reset clears every filter, a date typed halfway included', async () => {
    await page.goto(`${web.url}/history?type=full&status=completed`);
    await page.locator('[data-testid=history-row]').first().waitFor();
    await page.fill('input[name=q]', 'app');
    await page.locator('input[name=to]').click();
    // Half a date: the input holds it, but it is no value yet (the URL has none).
    await page.keyboard.type('03');
    expect(await page.locator('input[name=to]').evaluate((input: HTMLInputElement) => input.validity.badInput)).toBe(true);
    await page.getByRole('button', { name: 'Reset' }).click();
    await page.waitForURL((url) => url.search === '');
    expect(await page.inputValue('input[name=q]')).toBe('');
    expect(await page.inputValue('select[name=type]')).toBe('');
    expect(await page.inputValue('select[name=status]')).toBe('');
    expect(await page.locator('input[name=to]').evaluate((input: HTMLInputElement) => input.validity.badInput)).toBe(false);
    expect(await page.getByRole('button', { name: 'Reset' }).isDisabled()).toBe(true);
  });

  test('a notification channel whose deliveries all fail says so on its card', async () => {
    const created = await web.api<{ id: string }>('POST', '/api/notification-channels', { name: 'down-hook', kind: 'webhook', url: refusingUrl, events: ['backup.failed'] });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await page.goto(`${web.url}/notifications`);
    const card = page.locator('[data-testid=channel-card][data-name=down-hook]');
    await card.waitFor();
    expect(await card.locator('[data-testid=channel-failing]').count()).toBe(0);
    await page.getByRole('button', { name: 'Send a test of down-hook' }).click();
    await card.locator('[data-testid=channel-failing]', { hasText: /^Its only delivery failed: .*500/ }).waitFor();
    expect(await card.getAttribute('data-failing')).toBe('true');
    await page.getByRole('button', { name: 'Send a test of down-hook' }).click();
    await card.locator('[data-testid=channel-failing]', { hasText: /^All of its last 2 deliveries failed: / }).waitFor();
    await screenshot(page, 'channel-failing');
    await dismissToasts(page);
  });

  test('has no axe violation in the new dialogs, light and dark; screenshots at 1440 and 390 px in both', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      for (const viewport of [DESKTOP, PHONE]) {
        const { context, page: on } = await session.newPage(viewport, { colorScheme, bypassCSP: true });
        on.setDefaultTimeout(60_000);
        await logIn(on, web.url, admin);
        const check = (what: string) => (viewport === DESKTOP ? noViolations(on, `${colorScheme} ${what}`) : Promise.resolve());
        await on.goto(`${web.url}/sources`);
        await on.getByRole('button', { name: 'Edit spare-db' }).click();
        await dialog(on, 'Edit spare-db').waitFor();
        await check('source edit');
        await screenshot(on, 'source-edit');
        await on.keyboard.press('Escape');
        await on.getByRole('button', { name: 'Add a source' }).click();
        await dialog(on, 'Add a source').locator('#source-kind').selectOption('s3');
        await check('bucket source form');
        await screenshot(on, 'source-bucket-form');
        await on.keyboard.press('Escape');
        await on.goto(`${web.url}/users`);
        await on.locator('[data-testid=user-row] button', { hasText: 'Edit' }).first().click();
        await on.locator('#user-edit-role').waitFor();
        await check('user edit');
        await screenshot(on, 'user-edit');
        await on.keyboard.press('Escape');
        await on.goto(`${web.url}/verifications`);
        await on.getByRole('button', { name: 'Verify a backup' }).click();
        await dialog(on, 'Verify a backup').locator('#verify-backup option').first().waitFor({ state: 'attached' });
        await check('verify dialog');
        await screenshot(on, 'verify-dialog');
        await on.keyboard.press('Escape');
        await on.goto(`${web.url}/verifications/${verificationId}`);
        await on.locator('[data-testid=verification-table]').first().waitFor();
        await check('verification details');
        await screenshot(on, 'verification-tables');
        await on.goto(`${web.url}/history/${filesBackup.id}`);
        await on.locator('[data-testid=artifact-downloads] a').first().waitFor();
        await check('backup details with downloads');
        await screenshot(on, 'details-downloads');
        await on.goto(`${web.url}/notifications`);
        await on.locator('[data-testid=channel-failing]').waitFor();
        await check('notifications with a failing channel');
        await screenshot(on, 'channel-failing');
        await context.close();
      }
    }
    expect(violations).toEqual([]);
  });
});
