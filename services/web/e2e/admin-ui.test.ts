// The admin UI in Debian's chromium against the real API, worker, PostgreSQL and Redis: what an
// operator does in a day, each step waiting on what the page shows (no fixed sleeps), every
// console error failing the test unless the step provoked it on purpose and says so.
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { forgetDatabase, withClient } from '../../../test/support/pg.js';
import { databaseUrl, uniqueName } from '../../../test/support/env.js';
import { canMountTmpfs, mountTmpfs, type Tmpfs } from '../../../test/support/tmpfs.js';
import { DESKTOP, PHONE, launchBrowser, screenshot, type BrowserSession } from './support/browser.js';
import { createWebStack, type WebStack } from './support/web-stack.js';
import { dismissToasts, expectConsoleErrors as expectConsoleErrorsOf, toast } from './support/ui.js';

let web: WebStack;
let session: BrowserSession;
let admin: { username: string; password: string };
let context: BrowserContext;
let page: Page;
const configName = 'nightly-e2e';
let backupName = '';
let backupId = '';
let smallDisk: Tmpfs | undefined;

beforeAll(async () => {
  web = await createWebStack();
  session = await launchBrowser();
  admin = await web.user('admin');
  // History for pages, filters and charts: 130 finished rows over 30 days, and a source whose
  // database does not exist (a failure no retry can fix, so the backup fails at its first attempt).
  await web.seedHistory(130);
  const broken = await web.api<{ id: string }>('POST', '/api/sources', { name: 'broken', url: databaseUrl('coffre_e2e_no_such_database') });
  expect(broken.status).toBe(201);
  const failing = await web.api<{ id: string }>('POST', '/api/backups', { sourceId: broken.body.id, name: 'broken-full-attempt' });
  expect(failing.status).toBe(202);
  ({ context, page } = await session.newPage(DESKTOP));
  page.setDefaultTimeout(60_000);
});

afterAll(async () => {
  await session?.close();
  await web?.close();
  await smallDisk?.unmount();
});

// Each test ends with no console error it did not announce.
afterEach(() => {
  expect(session.errors).toEqual([]);
});

function expectConsoleErrors(pattern: RegExp, count: number): void {
  expectConsoleErrorsOf(session, pattern, count);
}

/**
 * Waits until the history table shows what the URL asks for (not the rows of the previous filter):
 * the URL changes before React renders the navigation, so the query the rows were read for is compared.
 */
async function settled(on: Page): Promise<void> {
  await on.waitForFunction(() => {
    const results = document.querySelector('[data-testid=history-results]');
    return results?.getAttribute('aria-busy') === 'false' && results.getAttribute('data-query') === window.location.search.slice(1);
  });
}

function historyRow(on: Page, name: string) {
  return on.locator(`[data-testid=history-row][data-name="${name}"]`);
}

describe('a logged-out browser', () => {
  test('gets only the login page, whatever the address, and calls no API route but the public list of login methods', async () => {
    const fresh = await session.newPage(DESKTOP);
    const apiCalls: string[] = [];
    fresh.page.on('request', (request) => {
      const path = new URL(request.url()).pathname;
      // The login page asks whether to offer single sign-on (public, no session needed).
      if (path.startsWith('/api/') && path !== '/api/auth/providers') apiCalls.push(path);
    });
    for (const path of ['/', '/history?status=failed', '/configurations', '/audit', '/sources', '/no/such/page']) {
      await fresh.page.goto(`${web.url}${path}`);
      await fresh.page.locator('#login-title').waitFor();
      expect(await fresh.page.locator('nav#nav').count()).toBe(0);
      expect(await fresh.page.locator('main#main').count()).toBe(0);
    }
    expect(apiCalls).toEqual([]);
    await screenshot(fresh.page, 'login');
    await fresh.context.close();
  });

  test('is told a wrong password in a sentence, and stays on the login page', async () => {
    const fresh = await session.newPage(DESKTOP);
    await fresh.page.goto(web.url);
    await fresh.page.fill('input[name=username]', admin.username);
    await fresh.page.fill('input[name=password]', 'not the password');
    await fresh.page.click('button[type=submit]');
    await fresh.page.locator('.form-error', { hasText: 'Wrong username or password.' }).waitFor();
    expect(await fresh.page.locator('nav#nav').count()).toBe(0);
    await fresh.context.close();
    expectConsoleErrors(/status of 401/, 1);
  });
});

describe('an admin', () => {
  test('logs in with a username and password and sees the dashboard, its charts drawn from the daily aggregate', async () => {
    const backupReads: string[] = [];
    const listen = (request: { url(): string }) => {
      const url = new URL(request.url());
      if (url.pathname.startsWith('/api/backups')) backupReads.push(`${url.pathname}${url.search}`);
    };
    page.on('request', listen);
    await page.goto(web.url);
    await page.fill('input[name=username]', admin.username);
    await page.fill('input[name=password]', admin.password);
    await page.click('button[type=submit]');
    await page.locator('[data-testid=whoami]', { hasText: admin.username }).waitFor();
    const cookies = await context.cookies();
    expect(cookies.find((c) => c.name === 'coffre_session')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(cookies.find((c) => c.name === 'coffre_csrf')).toMatchObject({ httpOnly: false });
    // The stats widget reads GET /api/backups/stats: the seeded history is in it.
    const stats = page.locator('[data-testid=stats]');
    await stats.waitFor();
    await stats.locator('.stat', { hasText: 'Success rate' }).locator('.stat-value', { hasText: '%' }).waitFor();
    await page.locator('[data-testid=chart-per-day] svg rect').first().waitFor();
    await page.locator('[data-testid=chart-stored] svg path.line').waitFor();
    await page.locator('[data-testid=protection-card][data-name=default]').waitFor();
    // Whether anything will run: no worker has started yet, and the dashboard says so.
    await page.locator('[data-testid=workers].status-failed', { hasText: /^workers: 0 alive$/ }).waitFor();
    // Both charts come from GET /api/backups/daily: one bar group and one point per UTC day, with
    // the API's counts and bytes (most of the 130 seeded rows fall in the window).
    const daily = (await web.api<{ items: { date: string; completed: number; failed: number; pending: number; running: number; storedBytes: number }[] }>('GET', '/api/backups/daily?days=30')).body.items;
    expect(daily).toHaveLength(30);
    const bars = await page.locator('[data-testid=chart-per-day] svg g[data-date]').evaluateAll((all) => all.map((g) => [g.getAttribute('data-date'), Number(g.getAttribute('data-total'))]));
    const points = await page.locator('[data-testid=chart-stored] svg circle[data-date]').evaluateAll((all) => all.map((c) => [c.getAttribute('data-date'), Number(c.getAttribute('data-bytes'))]));
    expect(bars.map(([date]) => date)).toEqual(daily.map((d) => d.date));
    expect(bars.reduce((sum, [, total]) => sum + (total as number), 0)).toBeGreaterThanOrEqual(120);
    expect(points.at(-1)).toEqual([daily.at(-1)!.date, daily.at(-1)!.storedBytes]);
    expect(points[0]![1]).toBeLessThan(points.at(-1)![1] as number);
    page.off('request', listen);
    expect(backupReads.filter((path) => path.startsWith('/api/backups/daily'))).toEqual(['/api/backups/daily?days=30']);
    expect(backupReads.filter((path) => /^\/api\/backups\?.*from=/.test(path))).toEqual([]);
    await screenshot(page, 'dashboard');
  });

  test.skipIf(!canMountTmpfs())('sees the disk usage of each destination, with a warning above 80 %', async () => {
    // A real small disk, 90 % full, as a second local destination.
    smallDisk = await mountTmpfs(1024 * 1024);
    await writeFile(join(smallDisk.dir, 'ballast'), Buffer.alloc(920 * 1024));
    const created = await web.api('POST', '/api/destinations', { name: 'small-disk', kind: 'local', path: smallDisk.dir });
    expect(created.status).toBe(201);
    const disk = page.locator('[data-testid=disk-usage] [data-testid=disk]', { hasText: 'small-disk' });
    await disk.locator('.warning', { hasText: 'more than 80 % full' }).waitFor();
    await disk.locator('.text-danger', { hasText: /^9\d % of the disk used$/ }).waitFor();
    const local = page.locator('[data-testid=disk-usage] [data-testid=disk]').first();
    await local.locator('[role=meter]').waitFor();
    await screenshot(page, 'dashboard-storage');

    await page.click('nav >> text=Destinations');
    const card = page.locator('[data-testid=destination-card][data-name=small-disk]');
    await card.locator('.warning').waitFor();
    await card.locator('button:has-text("Test connection")').click();
    await card.locator('[data-testid=destination-test-result]').waitFor();
    await toast(page, /^small-disk: /);
    await screenshot(page, 'destinations');
    await page.click('nav >> text=Dashboard');
  });

  test('creates a configuration through the form, whose fields are checked as they are typed', async () => {
    await page.click('nav >> text=Configurations');
    await page.click('button:has-text("New configuration")');
    const dialog = page.locator('[role=dialog]');
    await dialog.waitFor();
    // Live validation: a name typed then cleared, a time out of range.
    await dialog.locator('#cfg-name').fill('x');
    await dialog.locator('#cfg-name').fill('');
    await dialog.locator('.field-error', { hasText: 'Name must not be empty.' }).waitFor();
    await dialog.locator('#cfg-time').fill('25:00');
    await dialog.locator('.field-error', { hasText: 'Time must be a time of day HH:MM' }).waitFor();
    await dialog.locator('#cfg-maxAgeDays').fill('366');
    await dialog.locator('.field-error', { hasText: 'between 1 and 365' }).waitFor();
    await dialog.locator('#cfg-dumpJobs').fill('40');
    await dialog.locator('.field-error', { hasText: 'between 1 and 32 (got 40)' }).waitFor();
    await dialog.locator('#cfg-dumpJobs').fill('1');
    // Submitting with errors sends nothing and flags the source too.
    await dialog.locator('button:has-text("Create")').click();
    await dialog.locator('.field-error', { hasText: 'Pick the source to back up.' }).waitFor();
    await screenshot(page, 'configuration-form');

    await dialog.locator('#cfg-name').fill(configName);
    await dialog.locator('#cfg-source').selectOption({ label: 'default' });
    await dialog.locator('#cfg-time').fill('02:30');
    await dialog.locator('#cfg-maxAgeDays').fill('30');
    // The browser checks with the API's own schema: a zone the API refuses for schedules is refused as typed.
    await dialog.locator('#cfg-tz').fill('Australia/Lord_Howe');
    await dialog.locator('#cfg-tz-error', { hasText: 'half-hour' }).waitFor();
    await dialog.locator('#cfg-tz').fill('Europe/Paris');
    // What only the API can judge (FILES_ROOTS): its 400 sentence, at the top and under the field.
    await dialog.locator('#cfg-paths').fill('/etc');
    expect(await dialog.locator('.field-error').count()).toBe(0);
    await dialog.locator('button:has-text("Create")').click();
    await dialog.locator('[data-testid=api-error]', { hasText: "includePaths[0] '/etc' is outside FILES_ROOTS" }).waitFor();
    await dialog.locator('#cfg-paths-error', { hasText: 'outside FILES_ROOTS' }).waitFor();
    expectConsoleErrors(/status of 400/, 1);
    await dismissToasts(page);

    await dialog.locator('#cfg-paths').fill('');
    await dialog.locator('button:has-text("Create")').click();
    await toast(page, `${configName} is created.`);
    await dialog.waitFor({ state: 'detached' });
    const card = page.locator(`[data-testid=configuration-card][data-name="${configName}"]`);
    await card.locator('.schedule', { hasText: 'Every day at 02:30 (Europe/Paris)' }).waitFor();
    await card.locator('dd', { hasText: /^in \d+/ }).waitFor();
    await screenshot(page, 'configurations');
  });

  test('edits, toggles, duplicates and deletes a configuration, each with its toast', async () => {
    const card = page.locator(`[data-testid=configuration-card][data-name="${configName}"]`);
    await card.locator('button:has-text("Edit")').click();
    const form = page.locator('[role=dialog]', { hasText: `Edit ${configName}` });
    await form.locator('#cfg-kind').selectOption('weekly');
    await form.locator('#cfg-weekday').selectOption({ label: 'Monday' });
    await form.locator('#cfg-time').fill('03:15');
    await form.locator('button:has-text("Save")').click();
    await toast(page, `${configName} is saved.`);
    await card.locator('.schedule', { hasText: 'Every Monday at 03:15 (Europe/Paris)' }).waitFor();

    await card.locator('button:has-text("Duplicate")').click();
    await toast(page, `${configName} is duplicated`);
    const copy = page.locator('[data-testid=configuration-card]', { hasText: `${configName} (copy)` }).first();
    await copy.waitFor();
    const copyName = (await copy.getAttribute('data-name'))!;
    const copyCard = page.locator(`[data-testid=configuration-card][data-name="${copyName}"]`);
    expect(await copyCard.locator('input[role=switch]').isChecked()).toBe(false);
    await copyCard.locator('.switch').click();
    await toast(page, `${copyName} is active.`);
    await copyCard.locator('input[role=switch]:checked').waitFor();

    // The confirmation dialog by keyboard: focus goes in, Tab stays in, Escape closes, focus returns.
    const deleteButton = copyCard.locator('button:has-text("Delete")');
    await deleteButton.focus();
    await page.keyboard.press('Enter');
    const dialog = page.locator('[role=dialog]');
    await dialog.waitFor();
    expect(await page.evaluate(() => Boolean(document.activeElement?.closest('[role=dialog]')))).toBe(true);
    for (let i = 0; i < 6; i += 1) {
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => Boolean(document.activeElement?.closest('[role=dialog]')))).toBe(true);
    }
    await page.keyboard.press('Shift+Tab');
    expect(await page.evaluate(() => Boolean(document.activeElement?.closest('[role=dialog]')))).toBe(true);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await deleteButton.evaluate((button) => button === document.activeElement)).toBe(true);

    await deleteButton.click();
    await dialog.locator('button:has-text("Delete configuration")').click();
    await toast(page, `${copyName} is deleted.`);
    await copyCard.waitFor({ state: 'detached' });
  });

  test('runs the configuration and watches it go pending, running, completed without a reload', async () => {
    await page.evaluate(() => ((window as unknown as { coffreMarker: string }).coffreMarker = 'same document'));
    // pg_dump waits for this lock, so that "running" lasts until the test releases it.
    const holder = new pg.Client({ connectionString: web.sourceUrl });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE customers IN ACCESS EXCLUSIVE MODE');
      const card = page.locator(`[data-testid=configuration-card][data-name="${configName}"]`);
      await card.locator('button:has-text("Run now")').click();
      await toast(page, `Backup of ${configName} is queued.`);

      await page.click('nav >> text=History');
      const row = page.locator(`[data-testid=history-row][data-name^="${configName}-full-"]`);
      await row.and(page.locator('[data-status=pending]')).waitFor();
      backupName = (await row.getAttribute('data-name'))!;
      await screenshot(page, 'history-pending');

      web.stack.startWorkers();
      await row.and(page.locator('[data-status=running]')).waitFor();
      await row.locator('.badge.status-running').waitFor();
      // The dashboard shows it running, with its progress bar.
      await page.click('nav >> text=Dashboard');
      const job = page.locator('[data-testid=running-jobs] .job', { hasText: backupName });
      await job.locator('[role=progressbar]').waitFor();
      await job.locator('.badge.status-running').waitFor();
      // The worker that runs it sends its heartbeat: the dashboard counts it.
      await page.locator('[data-testid=workers].status-completed', { hasText: /^workers: 1 alive$/ }).waitFor();
      await screenshot(page, 'dashboard-running');
      await page.click('nav >> text=History');
      await row.and(page.locator('[data-status=running]')).waitFor();
    } finally {
      await holder.query('COMMIT').catch(() => {});
      await holder.end();
    }
    const row = historyRow(page, backupName);
    await row.and(page.locator('[data-status=completed]')).waitFor({ timeout: 120_000 });
    expect(await page.evaluate(() => (window as unknown as { coffreMarker?: string }).coffreMarker)).toBe('same document');
    const list = await web.api<{ items: { id: string; name: string }[] }>('GET', `/api/backups?q=${encodeURIComponent(backupName)}`);
    backupId = list.body.items[0]!.id;
  });

  test('filters the history by text, type, status and dates, kept in the URL through a reload, and resets', async () => {
    await page.goto(`${web.url}/history`);
    const rows = page.locator('[data-testid=history-row]');
    await page.locator('[data-testid=history-total]', { hasText: '132 backups' }).waitFor();
    // 132 rows, 20 a page: 7 pages, shown with an ellipsis.
    await page.locator('.pagination .page-gap').first().waitFor();
    await page.click('.pagination button[aria-label="Page 7"]');
    await page.waitForURL(/page=7/);
    await page.locator('.pagination [aria-current=page]', { hasText: '7' }).waitFor();
    await settled(page);
    await page.locator('[data-testid=history-total]', { hasText: '132 backups' }).waitFor();
    expect(await rows.count()).toBe(12);

    await page.fill('input[name=q]', configName);
    await page.waitForURL((url) => url.searchParams.get('q') === configName && !url.searchParams.has('page'));
    await page.locator('[data-testid=history-total]', { hasText: /^1 backup$/ }).waitFor();
    await historyRow(page, backupName).waitFor();

    await page.fill('input[name=q]', '');
    await page.waitForURL((url) => !url.searchParams.has('q'));
    await page.selectOption('select[name=status]', 'failed');
    await page.waitForURL(/status=failed/);
    await settled(page);
    await historyRow(page, 'broken-full-attempt').waitFor();
    for (const status of await rows.evaluateAll((all) => all.map((row) => row.getAttribute('data-status')))) expect(status).toBe('failed');

    await page.selectOption('select[name=type]', 'schema');
    await page.waitForURL((url) => url.searchParams.get('type') === 'schema' && url.searchParams.get('status') === 'failed');
    await settled(page);
    expect(await historyRow(page, 'broken-full-attempt').count()).toBe(0);
    expect(await rows.count()).toBeGreaterThan(0);
    for (const text of await rows.locator('td[data-label=Type]').allInnerTexts()) expect(text).toBe('schema');

    // A date range in the future matches nothing; the filters survive a reload.
    const future = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
    await page.fill('input[name=from]', future);
    await page.waitForURL(/from=/);
    await page.locator('.empty', { hasText: 'No backup matches these filters.' }).waitFor();
    await page.reload();
    await page.locator('.empty', { hasText: 'No backup matches these filters.' }).waitFor();
    expect(await page.inputValue('select[name=type]')).toBe('schema');
    expect(await page.inputValue('select[name=status]')).toBe('failed');
    expect(await page.inputValue('input[name=from]')).toBe(future);

    await page.click('button:has-text("Reset")');
    await page.waitForURL((url) => url.search === '');
    await settled(page);
    await page.locator('[data-testid=history-total]', { hasText: '132 backups' }).waitFor();
    expect(await rows.count()).toBe(20);
    expect(await page.inputValue('select[name=type]')).toBe('');
    await screenshot(page, 'history');
  });

  test('opens the details of a failed backup and sees its error, with no download or restore', async () => {
    await page.fill('input[name=q]', 'broken-full-attempt');
    await page.locator('[data-testid=history-total]', { hasText: /^1 backup$/ }).waitFor();
    await page.click('button[aria-label="Details of broken-full-attempt"]');
    const details = page.locator('[data-testid=backup-details]');
    await details.locator('[data-testid=backup-error]').waitFor();
    expect(await details.locator('a:has-text("Download")').count()).toBe(0);
    expect(await details.locator('button:has-text("Restore")').count()).toBe(0);
    expect(await details.locator('button:has-text("Verify")').count()).toBe(0);
    await details.locator('button:has-text("Delete")').waitFor();
    await screenshot(page, 'details-failed');
    await page.keyboard.press('Escape');
    await details.waitFor({ state: 'detached' });
    await page.waitForURL((url) => url.pathname === '/history' && url.searchParams.get('q') === 'broken-full-attempt');
  });

  test('opens the details of the completed backup and downloads its artifact, checksum and all', async () => {
    await page.fill('input[name=q]', backupName);
    await historyRow(page, backupName).locator('button:has-text("Details")').click();
    await page.waitForURL(new RegExp(`/history/${backupId}`));
    const details = page.locator('[data-testid=backup-details]');
    await details.waitFor();
    const backup = (await web.api<{ checksumSha256: string; sizeBytes: number; artifacts: { kind: string; checksumSha256: string; sizeBytes: number }[] }>('GET', `/api/backups/${backupId}`)).body;
    expect(await details.locator('[data-testid=detail-checksum]').innerText()).toBe(backup.checksumSha256);
    expect(await details.locator('[data-testid=detail-size]').innerText()).toMatch(/\d+(\.\d+)? (B|KB|MB)/);
    expect(await details.locator('[data-testid=backup-log]').innerText()).not.toBe('No log yet.');
    await screenshot(page, 'details');

    const [download] = await Promise.all([page.waitForEvent('download'), details.locator('a:has-text("Download")').click()]);
    await toast(page, `The download of ${backupName}`);
    const file = await readFile((await download.path())!);
    const artifact = backup.artifacts.find((a) => a.kind === 'database')!;
    expect(file.length).toBe(artifact.sizeBytes);
    expect(createHash('sha256').update(file).digest('hex')).toBe(artifact.checksumSha256);
  });

  test('restores the backup into a new database only after typing its name', async () => {
    const target = uniqueName('e2e_restored').toLowerCase();
    forgetDatabase(target);
    const details = page.locator('[data-testid=backup-details]');
    await details.locator('button:has-text("Restore")').click();
    const dialog = page.locator('[role=dialog]', { hasText: `Restore ${backupName}` });
    await dialog.waitFor();
    const confirm = dialog.locator('button[type=submit]:has-text("Restore")');
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.locator('input[value=new]').check();
    await dialog.locator('#restore-database').fill('1-not-a-name');
    await dialog.locator('.field-error', { hasText: 'starting with a letter' }).waitFor();
    await dialog.locator('#restore-database').fill(target);
    await dialog.locator('#restore-confirm').fill(backupName.slice(0, -1));
    expect(await confirm.isDisabled()).toBe(true);
    await dialog.locator('#restore-confirm').fill(backupName);
    expect(await confirm.isDisabled()).toBe(false);
    await screenshot(page, 'restore-dialog');
    await confirm.click();
    await toast(page, `The restore of ${backupName} into ${target} is queued.`);

    await page.keyboard.press('Escape');
    await page.click('nav >> text=Restores');
    const row = page.locator('[data-testid=restore-row]', { hasText: target });
    await row.and(page.locator('[data-status=completed]')).waitFor({ timeout: 120_000 });
    await screenshot(page, 'restores');
    const { rows } = await withClient(databaseUrl(target), (client) => client.query<{ n: string }>('SELECT count(*) AS n FROM customers'));
    expect(Number(rows[0]!.n)).toBe(500);
  });

  test('verifies the backup and sees the verification pass', async () => {
    await page.goto(`${web.url}/history/${backupId}`);
    const details = page.locator('[data-testid=backup-details]');
    await details.locator('button:has-text("Verify")').click();
    await page.locator('[role=dialog] button:has-text("Verify")').last().click();
    await toast(page, `The verification of ${backupName} is queued.`);
    await page.keyboard.press('Escape');
    await page.click('nav >> text=Verifications');
    await page.locator('[data-testid=verification-row]', { hasText: backupName }).locator('.badge.result-passed').waitFor({ timeout: 120_000 });
    await screenshot(page, 'verifications');
  });

  test('deletes the backup after confirming: the row stays, marked deleted, without a download', async () => {
    await page.goto(`${web.url}/history/${backupId}`);
    const details = page.locator('[data-testid=backup-details]');
    await details.locator('button:has-text("Delete")').click();
    await page.locator('[role=dialog] button:has-text("Delete backup")').click();
    await toast(page, `${backupName} is deleted.`);
    await details.locator('.badge', { hasText: 'completed, deleted' }).waitFor();
    expect(await details.locator('a:has-text("Download")').count()).toBe(0);
    expect(await details.locator('button:has-text("Restore")').count()).toBe(0);
  });

  test('backs up a source from the dashboard, tests a source connection and reads the audit log', async () => {
    await page.goto(web.url);
    await page.getByRole('button', { name: 'Back up default now' }).click();
    await toast(page, /Backup default-full-\d+-\d+Z is queued\./);

    await page.click('nav >> text=Sources');
    const card = page.locator('[data-testid=source-card][data-name=default]');
    await card.locator('button:has-text("Test connection")').click();
    await card.locator('[data-testid=source-test-result]').waitFor();
    await toast(page, /^default: /);
    await screenshot(page, 'sources');

    await page.click('nav >> text=Audit log');
    await page.locator('[data-testid=audit-table] td', { hasText: 'backup.delete' }).first().waitFor();
    await screenshot(page, 'audit');
    expect(await page.locator('nav a[href="/admin/queues/"]').count()).toBe(1);
  });

  test('fits a phone: every page at 390 px wide without sideways scrolling', async () => {
    const phone = await session.newPage(PHONE);
    await phone.page.goto(web.url);
    await screenshot(phone.page, 'login');
    await phone.page.fill('input[name=username]', admin.username);
    await phone.page.fill('input[name=password]', admin.password);
    await phone.page.click('button[type=submit]');
    await phone.page.locator('[data-testid=stats]').waitFor();
    const pages: [string, string, string][] = [
      ['/', 'dashboard', '[data-testid=chart-stored] svg path.line'],
      ['/configurations', 'configurations', '[data-testid=configuration-card]'],
      ['/history', 'history', '[data-testid=history-row]'],
      [`/history/${backupId}`, 'details', '[data-testid=backup-details]'],
      ['/restores', 'restores', '[data-testid=restore-row]'],
      ['/verifications', 'verifications', '[data-testid=verification-row]'],
      ['/sources', 'sources', '[data-testid=source-card]'],
      ['/destinations', 'destinations', '[data-testid=destination-card]'],
      ['/audit', 'audit', '[data-testid=audit-table]'],
    ];
    for (const [path, name, ready] of pages) {
      await phone.page.goto(`${web.url}${path}`);
      await phone.page.locator(ready).first().waitFor();
      const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, `${path} scrolls sideways`).toBeLessThanOrEqual(0);
      await screenshot(phone.page, name);
    }
    // The menu opens from the top bar and navigates.
    await phone.page.click('.menu-button');
    await phone.page.locator('nav#nav.sidebar-open').waitFor();
    await screenshot(phone.page, 'menu');
    await phone.page.click('nav >> text=Configurations');
    await phone.page.locator('nav#nav.sidebar-open').waitFor({ state: 'detached' }).catch(() => {});
    expect(await phone.page.locator('nav#nav.sidebar-open').count()).toBe(0);
    await phone.page.click('button:has-text("New configuration")');
    await phone.page.locator('[role=dialog]').waitFor();
    await screenshot(phone.page, 'configuration-form');
    await phone.context.close();
  });
});

describe('a viewer', () => {
  test('sees no button that changes anything, and the API refuses those actions anyway', async () => {
    const token = await web.stack.token('viewer');
    const viewer = await session.newPage(DESKTOP);
    await viewer.page.goto(web.url);
    await viewer.page.click('button[role=tab]:has-text("API token")');
    await viewer.page.fill('input[name=token]', token);
    await viewer.page.click('button[type=submit]');
    await viewer.page.locator('[data-testid=whoami] .badge', { hasText: 'viewer' }).waitFor();

    const mutating = /^(Run now|Edit|Duplicate|Delete|New configuration|Back up .+ now|Retry|Restore…|Verify|Download|Test connection|Add a source|Remove|Add a destination|Set as default)$/;
    const pages: [string, string][] = [
      ['/', '[data-testid=protection-card]'],
      ['/configurations', '[data-testid=configuration-card]'],
      ['/history', '[data-testid=history-row]'],
      [`/history/${backupId}`, '[data-testid=backup-details]'],
      ['/history?q=broken-full-attempt', '[data-testid=history-row]'],
      ['/sources', '[data-testid=source-card]'],
      ['/destinations', '[data-testid=destination-card]'],
    ];
    for (const [path, ready] of pages) {
      await viewer.page.goto(`${web.url}${path}`);
      await viewer.page.locator(ready).first().waitFor();
      const labels = await viewer.page.locator('main button, main a.button, [role=dialog] button').allInnerTexts();
      expect(labels.map((l) => l.trim()).filter((label) => mutating.test(label)), `mutating buttons on ${path}`).toEqual([]);
      for (const toggle of await viewer.page.locator('input[role=switch]').all()) expect(await toggle.isDisabled()).toBe(true);
    }
    const completed = await web.api<{ items: { id: string }[] }>('GET', '/api/backups?status=completed&q=default');
    await viewer.page.goto(`${web.url}/history/${completed.body.items[0]!.id}`);
    await viewer.page.locator('[data-testid=backup-details] [data-testid=detail-checksum]').waitFor();
    expect(await viewer.page.locator('[data-testid=backup-details] a:has-text("Download"), [data-testid=backup-details] button').allInnerTexts()).toEqual([]);
    expect(await viewer.page.locator('nav >> text=Audit log').count()).toBe(0);
    await screenshot(viewer.page, 'viewer-details');
    await viewer.page.goto(`${web.url}/configurations`);
    await viewer.page.locator('[data-testid=configuration-card]').first().waitFor();
    await screenshot(viewer.page, 'viewer-configurations');
    for (const label of ['Notifications', 'Users', 'API tokens']) expect(await viewer.page.locator('nav#nav a', { hasText: label }).count()).toBe(0);
    // The admin pages' addresses lead back to the dashboard.
    for (const path of ['/notifications', '/users', '/tokens', '/audit']) {
      await viewer.page.goto(`${web.url}${path}`);
      await viewer.page.waitForURL(`${web.url}/`);
      await viewer.page.locator('[data-testid=stats]').waitFor();
    }

    // The same session, CSRF token included, asking the API directly.
    const cookies = await viewer.context.cookies();
    const cookieHeader = cookies.map((c) => `${c.name}=${c.value}`).join('; ');
    const csrf = cookies.find((c) => c.name === 'coffre_csrf')!.value;
    const configurations = await web.api<{ items: { id: string }[] }>('GET', '/api/configurations');
    const attempts: [string, string, unknown?][] = [
      ['POST', '/api/backups', {}],
      ['POST', `/api/configurations/${configurations.body.items[0]!.id}/run`],
      ['POST', `/api/configurations/${configurations.body.items[0]!.id}/deactivate`],
      ['DELETE', `/api/backups/${completed.body.items[0]!.id}`],
      ['POST', `/api/backups/${completed.body.items[0]!.id}/verify`],
    ];
    for (const [method, path, body] of attempts) {
      const response = await fetch(`${web.url}${path}`, {
        method,
        headers: { Cookie: cookieHeader, 'X-CSRF-Token': csrf, ...(body ? { 'Content-Type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      expect(response.status, `${method} ${path}`).toBe(403);
    }
    const download = await fetch(`${web.url}/api/backups/${completed.body.items[0]!.id}/download`, { headers: { Cookie: cookieHeader } });
    expect(download.status).toBe(403);

    // Logging out ends the session: the next load is the login page again.
    await viewer.page.keyboard.press('Escape');
    await viewer.page.locator('[role=dialog]').waitFor({ state: 'detached' });
    await viewer.page.click('button:has-text("Log out")');
    await viewer.page.locator('#login-title').waitFor();
    await toast(viewer.page, 'You are logged out.');
    expect((await viewer.context.cookies()).map((c) => c.name)).toEqual([]);
    await viewer.page.goto(`${web.url}/configurations`);
    await viewer.page.locator('#login-title').waitFor();
    const stale = await fetch(`${web.url}/api/auth/me`, { headers: { Cookie: cookieHeader } });
    expect(stale.status).toBe(401);
    await viewer.context.close();
  });
});
