// The admin pages and the restore flows in Debian's chromium against the real API, worker,
// PostgreSQL, Redis and an S3 server: notification channels (a signed webhook received by a
// node:http server of this test), API tokens, users, destinations, restores of a database into
// another source, of files into a directory and of a bucket into another bucket, and the addresses
// notifications link to. Each step waits on what the page shows or polls the API with a deadline;
// every console error fails the test unless the step provoked it on purpose and says so.
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { createS3Storage } from '@coffre/shared/s3';
import { createDatabase, forgetDatabase, withClient } from '../../../test/support/pg.js';
import { databaseUrl, uniqueName } from '../../../test/support/env.js';
import { S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, startS3Server, type S3Server } from '../../../test/support/s3.js';
import { DESKTOP, PHONE, launchBrowser, screenshot, type BrowserSession } from './support/browser.js';
import { createWebStack, type WebStack } from './support/web-stack.js';
import { dismissToasts, expectConsoleErrors, logIn, toast, until } from './support/ui.js';

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

interface ApiBackup {
  id: string;
  name: string;
  status: string;
  artifacts?: { kind: string; destination: string }[];
}

let web: WebStack;
let s3: S3Server;
let session: BrowserSession;
let admin: { username: string; password: string };
let context: BrowserContext;
let page: Page;
let receiver: Server;
let receiverUrl = '';
const received: Received[] = [];
const scratch: string[] = [];
// The backup with a files artifact, and its restore into a directory: the phone test shows them too.
let filesBackup: ApiBackup;
let filesRestoreId = '';

beforeAll(async () => {
  [web, s3] = await Promise.all([createWebStack(), startS3Server()]);
  web.stack.startWorkers();
  session = await launchBrowser();
  admin = await web.user('admin');
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(204).end();
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/coffre?key=part-of-the-secret`;
  ({ context, page } = await session.newPage(DESKTOP));
  page.setDefaultTimeout(60_000);
  await logIn(page, web.url, admin);
});

afterAll(async () => {
  await session?.close();
  receiver?.closeAllConnections();
  await new Promise<void>((done) => (receiver ? receiver.close(() => done()) : done()));
  await web?.close();
  await s3?.stop();
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

// Each test ends with no console error it did not announce.
afterEach(() => {
  expect(session.errors).toEqual([]);
});

async function scratchDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `coffre-e2e-${prefix}-`));
  scratch.push(dir);
  return dir;
}

/** Starts a backup through the API and waits for it to finish. */
async function backUp(body: Record<string, unknown>, path = '/api/backups'): Promise<ApiBackup> {
  const started = await web.api<ApiBackup>('POST', path, body);
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  const done = await until(
    async () => (await web.api<ApiBackup>('GET', `/api/backups/${started.body.id}`)).body,
    (backup) => backup.status === 'completed' || backup.status === 'failed',
    120_000,
    `backup ${started.body.name}`,
  );
  expect(done.status).toBe('completed');
  return done;
}

function card(testid: string, name: string) {
  return page.locator(`[data-testid=${testid}][data-name="${name}"]`);
}

describe('notification channels', () => {
  const secret = 'e2e-signing-secret-0123456789';

  test('are added through a form checked as it is typed; the API’s 400 sentence shows under its field', async () => {
    await page.click('nav >> text=Notifications');
    await page.locator('.empty', { hasText: 'No channel yet' }).waitFor();
    await page.click('button:has-text("Add a channel")');
    const dialog = page.locator('[role=dialog]', { hasText: 'Add a notification channel' });
    await dialog.waitFor();
    // Live validation: a cleared name, a URL that is not http(s), a short secret, no event.
    await dialog.locator('#ch-name').fill('x');
    await dialog.locator('#ch-name').fill('');
    await dialog.locator('.field-error', { hasText: 'Name must not be empty.' }).waitFor();
    await dialog.locator('#ch-url').fill('ftp://hooks.example.com/in');
    await dialog.locator('#ch-url-error', { hasText: 'Must be an http:// or https:// URL.' }).waitFor();
    await dialog.locator('#ch-secret').fill('too short');
    await dialog.locator('#ch-secret-error', { hasText: 'at least 16 characters' }).waitFor();
    for (const box of await dialog.locator('input[name=events]').all()) await box.uncheck();
    await dialog.locator('#ch-events-error', { hasText: 'Pick at least one event.' }).waitFor();
    await screenshot(page, 'channel-form');

    // The browser checks with the API's own schema: an address the API refuses is refused as typed.
    await dialog.locator('#ch-kind').selectOption('email');
    await dialog.locator('#ch-name').fill('ops mail');
    await dialog.locator('#ch-from').fill('coffre@example.com');
    await dialog.locator('#ch-to').fill('ops@localhost');
    await dialog.locator('#ch-to-error', { hasText: 'must be an email address' }).waitFor();
    // What only the API can judge (where it may connect): its sentence, at the top and under the field.
    await dialog.locator('#ch-to').fill('ops@example.com');
    await dialog.locator('#ch-host').fill('169.254.169.254');
    await dialog.locator('input[name=events][value="backup.failed"]').check();
    expect(await dialog.locator('.field-error').count()).toBe(0);
    await dialog.locator('button:has-text("Add")').click();
    await dialog.locator('[data-testid=api-error]', { hasText: 'host: 169.254.169.254 is a link-local address' }).waitFor();
    await dialog.locator('#ch-host-error', { hasText: 'coffre never connects there' }).waitFor();
    expectConsoleErrors(session, /status of 400/, 1);
    await dismissToasts(page);

    // The signed webhook, pointed at this test's receiver.
    await dialog.locator('#ch-kind').selectOption('webhook');
    await dialog.locator('#ch-name').fill('ops hook');
    await dialog.locator('#ch-url').fill(receiverUrl);
    await dialog.locator('#ch-secret').fill(secret);
    await dialog.locator('input[name=events][value="backup.completed"]').check();
    expect(await dialog.locator('.field-error').count()).toBe(0);
    await dialog.locator('button:has-text("Add")').click();
    await toast(page, 'ops hook is added.');
    await dialog.waitFor({ state: 'detached' });
    const hook = card('channel-card', 'ops hook');
    // Only the scheme and host of the URL come back; the path and query are a credential.
    expect(await hook.locator('[data-testid=channel-target]').innerText()).toBe(`${new URL(receiverUrl).origin}/********`);
    await hook.locator('.badge', { hasText: 'signed' }).waitFor();
    await hook.locator('.event-list li', { hasText: 'backup.completed' }).waitFor();
    expect(received).toEqual([]);
  });

  test('a test-send reaches the receiver once, signed, and is listed with its attempt', async () => {
    const hook = card('channel-card', 'ops hook');
    await hook.locator('button:has-text("Send a test")').click();
    await toast(page, /^ops hook: test notification delivered \(HTTP 204 in/);
    await hook.locator('[data-testid=channel-test-result]', { hasText: 'Test notification delivered' }).waitFor();
    expect(received).toHaveLength(1);
    const [request] = received;
    const expected = `sha256=${createHmac('sha256', secret).update(request!.body).digest('hex')}`;
    expect(request!.headers['x-coffre-signature']).toBe(expected);
    expect(request!.headers['x-coffre-event']).toBe('test');
    expect(JSON.parse(request!.body)).toMatchObject({ event: 'test', title: 'Test notification from coffre to channel "ops hook"' });

    await hook.locator('button:has-text("Deliveries")').click();
    const deliveries = page.locator('[role=dialog]', { hasText: 'Deliveries to ops hook' });
    const delivery = deliveries.locator('[data-testid=delivery][data-event=test]');
    await delivery.and(page.locator('[data-status=delivered]')).waitFor();
    expect(await delivery.locator('[data-testid=attempt]').count()).toBe(1);
    await delivery.locator('[data-testid=attempt][data-ok=true]', { hasText: 'HTTP 204' }).waitFor();
    await screenshot(page, 'channel-deliveries');
    await page.keyboard.press('Escape');
    await deliveries.waitFor({ state: 'detached' });
    await screenshot(page, 'notifications');
  });

  test('a real event is delivered too: a completed backup, with its link to the backup’s page', async () => {
    const backup = await backUp({});
    const event = await until(
      async () => received.find((r) => r.headers['x-coffre-event'] === 'backup.completed'),
      (found) => found !== undefined,
      60_000,
      'the backup.completed notification',
    );
    const body = JSON.parse(event!.body) as { title: string; url?: string | null };
    expect(body.title).toContain(backup.name);
    const hook = card('channel-card', 'ops hook');
    await hook.locator('button:has-text("Deliveries")').click();
    const deliveries = page.locator('[role=dialog]', { hasText: 'Deliveries to ops hook' });
    await deliveries.locator('[data-testid=delivery][data-event="backup.completed"][data-status=delivered]').waitFor();
    await page.keyboard.press('Escape');
    await deliveries.waitFor({ state: 'detached' });
  });

  test('an edit that does not resend the secrets keeps them; disabling and deleting ask nothing more than a click and a confirmation', async () => {
    const hook = card('channel-card', 'ops hook');
    await hook.locator('button:has-text("Edit")').click();
    const form = page.locator('[role=dialog]', { hasText: 'Edit ops hook' });
    expect(await form.locator('#ch-url').inputValue()).toBe('');
    expect(await form.locator('#ch-secret').inputValue()).toBe('');
    await form.locator('.field-hint', { hasText: 'A secret is stored: leave empty to keep it.' }).waitFor();
    await form.locator('input[name=events][value="restore.completed"]').check();
    await form.locator('button:has-text("Save")').click();
    await toast(page, 'ops hook is saved.');
    await form.waitFor({ state: 'detached' });
    await hook.locator('.event-list li', { hasText: 'restore.completed' }).waitFor();

    // Sent again: the stored URL and secret still serve.
    const before = received.length;
    await dismissToasts(page);
    await hook.locator('button:has-text("Send a test")').click();
    await toast(page, /^ops hook: test notification delivered/);
    expect(received).toHaveLength(before + 1);
    const last = received.at(-1)!;
    expect(last.headers['x-coffre-signature']).toBe(`sha256=${createHmac('sha256', secret).update(last.body).digest('hex')}`);

    await hook.locator('.switch').click();
    await toast(page, 'ops hook is disabled.');
    await hook.locator('input[role=switch]:not(:checked)').waitFor();
    const stored = await web.api<{ items: { name: string; enabled: boolean }[] }>('GET', '/api/notification-channels');
    expect(stored.body.items.find((c) => c.name === 'ops hook')?.enabled).toBe(false);

    await hook.locator('button:has-text("Delete")').click();
    const confirm = page.locator('[role=dialog]', { hasText: 'Delete ops hook?' });
    await confirm.locator('button:has-text("Delete channel")').click();
    await toast(page, 'ops hook is deleted.');
    await hook.waitFor({ state: 'detached' });
  });
});

describe('API tokens', () => {
  let value = '';

  test('a token is created with its value shown once, copied, and works against the API', async () => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: web.url });
    await page.click('nav >> text=API tokens');
    await page.locator('[data-testid=token-row][data-name="bootstrap admin"]').waitFor();
    await page.click('button:has-text("Create a token")');
    const dialog = page.locator('[role=dialog]', { hasText: 'Create an API token' });
    await dialog.locator('#token-days').fill('0');
    await dialog.locator('#token-days-error', { hasText: 'between 1 and 3650' }).waitFor();
    await dialog.locator('#token-days').fill('30');
    await dialog.locator('#token-name').fill('e2e ci');
    await dialog.locator('#token-role').selectOption('operator');
    await dialog.locator('button:has-text("Create")').click();
    await toast(page, 'e2e ci is created: copy its value now.');

    const shown = page.locator('[role=dialog] [data-testid=token-value]');
    await shown.locator('.warning', { hasText: 'will never show it again' }).waitFor();
    value = await shown.locator('#token-value').inputValue();
    expect(value).toMatch(/^cof_/);
    await screenshot(page, 'token-created');
    await shown.locator('button:has-text("Copy")').click();
    await toast(page, 'The token is copied to the clipboard.');
    await shown.locator('button:has-text("Copied")').waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(value);

    const me = await fetch(`${web.url}/api/auth/me`, { headers: { Authorization: `Bearer ${value}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ role: 'operator', type: 'token' });

    // Once closed, the value is nowhere on the page; the list shows its first characters only.
    await page.locator('[role=dialog] button:has-text("Done")').click();
    await page.locator('[role=dialog]').waitFor({ state: 'detached' });
    const row = page.locator('[data-testid=token-row][data-name="e2e ci"]');
    await row.waitFor();
    expect(await row.innerText()).toContain(value.slice(0, 8));
    expect(await page.content()).not.toContain(value);
    const listed = await web.api('GET', '/api/tokens');
    expect(JSON.stringify(listed.body)).not.toContain(value);
    await screenshot(page, 'tokens');
  });

  test('revoking asks first, then the API refuses the token', async () => {
    const row = page.locator('[data-testid=token-row][data-name="e2e ci"]');
    await row.locator('button:has-text("Revoke")').click();
    const confirm = page.locator('[role=dialog]', { hasText: 'Revoke e2e ci?' });
    await confirm.locator('button:has-text("Cancel")').click();
    await confirm.waitFor({ state: 'detached' });
    expect((await fetch(`${web.url}/api/auth/me`, { headers: { Authorization: `Bearer ${value}` } })).status).toBe(200);

    await row.locator('button:has-text("Revoke")').click();
    await confirm.locator('button:has-text("Revoke token")').click();
    await toast(page, 'e2e ci is revoked.');
    await row.and(page.locator('[data-state=revoked]')).waitFor();
    expect(await row.locator('button:has-text("Revoke")').count()).toBe(0);
    expect((await fetch(`${web.url}/api/auth/me`, { headers: { Authorization: `Bearer ${value}` } })).status).toBe(401);
  });
});

describe('users', () => {
  test('a user is added with its password checked as typed, logs in, and is deleted after confirming', async () => {
    await page.click('nav >> text=Users');
    const me = page.locator(`[data-testid=user-row][data-name="${admin.username}"]`);
    await me.locator('.badge', { hasText: 'you' }).waitFor();
    expect(await me.locator('button').count()).toBe(0);

    await page.click('button:has-text("Add a user")');
    const dialog = page.locator('[role=dialog]', { hasText: 'Add a user' });
    await dialog.locator('#user-name').fill('carol smith');
    await dialog.locator('#user-name-error', { hasText: 'may hold letters, digits' }).waitFor();
    await dialog.locator('#user-name').fill('carol');
    await dialog.locator('#user-password').fill('123456789');
    await dialog.locator('#user-password-error', { hasText: 'at least 10 characters long (9 so far)' }).waitFor();
    await screenshot(page, 'user-form');
    await dialog.locator('#user-password').fill('carol password');
    await dialog.locator('#user-role').selectOption('operator');
    await dialog.locator('button:has-text("Add")').click();
    await toast(page, 'carol is added.');
    await dialog.waitFor({ state: 'detached' });
    const row = page.locator('[data-testid=user-row][data-name=carol]');
    await row.locator('.badge', { hasText: 'operator' }).waitFor();
    await screenshot(page, 'users');

    const login = () =>
      fetch(`${web.url}/api/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: 'carol', password: 'carol password' }) });
    expect((await login()).status).toBe(200);

    await row.locator('button:has-text("Delete")').click();
    await page.locator('[role=dialog] button:has-text("Delete user")').click();
    await toast(page, 'carol is deleted.');
    await row.waitFor({ state: 'detached' });
    expect((await login()).status).toBe(401);
  });
});

describe('sessions', () => {
  test('your sessions list marks this browser; ending another one logs that browser out', async () => {
    const elsewhere = await fetch(`${web.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'the other laptop' },
      body: JSON.stringify(admin),
    });
    expect(elsewhere.status).toBe(200);
    const cookie = elsewhere.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    await page.click('[data-testid=whoami] a');
    await page.locator('h1', { hasText: 'Your sessions' }).waitFor();
    await page.locator('[data-testid=session-row][data-current=true]').waitFor();
    const other = page.locator('[data-testid=session-row]', { hasText: 'the other laptop' });
    await other.locator('button:has-text("End")').click();
    await toast(page, 'The session is ended.');
    await other.waitFor({ state: 'detached' });
    expect((await fetch(`${web.url}/api/auth/me`, { headers: { Cookie: cookie } })).status).toBe(401);
    await page.locator('[data-testid=session-row][data-current=true]').waitFor();
  });
});

describe('destinations', () => {
  test('a local directory is added, made the default, receives a backup, and cannot be deleted while it holds it', async () => {
    const dir = await scratchDir('nas');
    await page.click('nav >> text=Destinations');
    await card('destination-card', 'local').waitFor();
    await page.click('button:has-text("Add a destination")');
    const dialog = page.locator('[role=dialog]', { hasText: 'Add a destination' });
    await dialog.locator('#dest-name').fill('nas');
    await dialog.locator('#dest-path').fill('backups/coffre');
    await dialog.locator('#dest-path-error', { hasText: 'Must be an absolute directory path' }).waitFor();
    await dialog.locator('#dest-path').fill(dir);
    await dialog.locator('button:has-text("Add destination")').click();
    await toast(page, 'nas is added.');
    await dialog.waitFor({ state: 'detached' });
    const nas = card('destination-card', 'nas');
    await nas.locator('.mono', { hasText: dir }).waitFor();

    await nas.locator('button:has-text("Set as default")').click();
    await toast(page, 'nas is the default destination');
    await nas.and(page.locator('[data-default=true]')).waitFor();
    await card('destination-card', 'local').and(page.locator('[data-default=false]')).waitFor();

    // A backup outside any configuration goes to the default destination.
    const backup = await backUp({ name: 'into-nas' });
    expect((await web.api<ApiBackup>('GET', `/api/backups/${backup.id}`)).body.artifacts?.map((a) => a.destination)).toContain('nas');
    expect((await readdir(dir, { recursive: true })).some((file) => file.endsWith('.dump.zst'))).toBe(true);
    await page.reload();
    await nas.locator('[data-testid=disk]', { hasText: /in [1-9]\d* artifact/ }).waitFor();
    await screenshot(page, 'destinations-managed');

    await nas.locator('button:has-text("Delete")').click();
    const confirm = page.locator('[role=dialog]', { hasText: 'Delete nas?' });
    await confirm.locator('button:has-text("Delete destination")').click();
    await confirm.locator('[data-testid=confirm-error]', { hasText: /Destination "nas" still holds \d+ artifact\(s\): delete those backups first\./ }).waitFor();
    await toast(page, 'still holds');
    expectConsoleErrors(session, /status of 409/, 1);
    await screenshot(page, 'destination-delete-refused');
    await confirm.locator('button:has-text("Cancel")').click();
    await dismissToasts(page);

    // The default back to the backup directory, the backup deleted: now it goes.
    await card('destination-card', 'local').locator('button:has-text("Set as default")').click();
    await card('destination-card', 'local').and(page.locator('[data-default=true]')).waitFor();
    await nas.and(page.locator('[data-default=false]')).waitFor();
    expect((await web.api('DELETE', `/api/backups/${backup.id}`)).status).toBe(204);
    await nas.locator('button:has-text("Delete")').click();
    await confirm.locator('button:has-text("Delete destination")').click();
    await toast(page, 'nas is deleted.');
    await nas.waitFor({ state: 'detached' });
  });

  test('an S3 bucket is added, its connection tested, and an edit that does not resend the keys keeps them', async () => {
    await s3.createBucket('offsite');
    await page.goto(`${web.url}/destinations`);
    await page.click('button:has-text("Add a destination")');
    const dialog = page.locator('[role=dialog]', { hasText: 'Add a destination' });
    await dialog.locator('#dest-kind').selectOption('s3');
    await dialog.locator('#dest-name').fill('offsite');
    await dialog.locator('#dest-bucket').fill('Offsite');
    await dialog.locator('#dest-bucket-error', { hasText: 'lower-case' }).waitFor();
    await dialog.locator('#dest-bucket').fill('offsite');
    await dialog.locator('#dest-endpoint').fill(s3.endpoint);
    await dialog.locator('#dest-prefix').fill('coffre');
    await dialog.locator('#dest-key').fill(S3_ACCESS_KEY_ID);
    await dialog.locator('#dest-secret').fill(S3_SECRET_ACCESS_KEY);
    await dialog.locator('text=Path-style addressing').click();
    await dialog.locator('#dest-sse').selectOption('AES256');
    await screenshot(page, 'destination-form');
    await dialog.locator('button:has-text("Add destination")').click();
    await toast(page, 'offsite is added.');
    const offsite = card('destination-card', 'offsite');
    await offsite.locator('dd', { hasText: 'stored, sealed' }).waitFor();
    await offsite.locator('button:has-text("Test connection")').click();
    await offsite.locator('[data-testid=destination-test-result].success-text', { hasText: 'is writable' }).waitFor();
    await dismissToasts(page);

    await offsite.locator('button:has-text("Edit")').click();
    const form = page.locator('[role=dialog]', { hasText: 'Edit offsite' });
    expect(await form.locator('#dest-key').inputValue()).toBe('');
    expect(await form.locator('#dest-secret').inputValue()).toBe('');
    expect(await form.locator('#dest-endpoint').inputValue()).toBe(s3.endpoint);
    await form.locator('#dest-prefix').fill('coffre-2');
    await form.locator('button:has-text("Save")').click();
    await toast(page, 'offsite is saved.');
    await offsite.locator('.mono', { hasText: 's3://offsite/coffre-2' }).waitFor();
    await offsite.locator('button:has-text("Test connection")').click();
    await offsite.locator('[data-testid=destination-test-result].success-text', { hasText: 'coffre-2' }).waitFor();

    await offsite.locator('button:has-text("Delete")').click();
    await page.locator('[role=dialog] button:has-text("Delete destination")').click();
    await toast(page, 'offsite is deleted.');
    await offsite.waitFor({ state: 'detached' });
  });
});

describe('restores', () => {

  test('a database is restored into another source, under a new database name', async () => {
    const other = await createDatabase('coffre_e2e_other');
    const created = await web.api<{ id: string }>('POST', '/api/sources', { name: 'reporting', url: other.url });
    expect(created.status).toBe(201);
    const backup = await backUp({ name: 'for-reporting' });
    const target = uniqueName('e2e_copy').toLowerCase();
    forgetDatabase(target);

    await page.goto(`${web.url}/backups/${backup.id}`);
    await page.waitForURL(`${web.url}/history/${backup.id}`);
    const details = page.locator('[data-testid=backup-details]');
    await details.locator('button:has-text("Restore")').click();
    const dialog = page.locator('[role=dialog]', { hasText: `Restore ${backup.name}` });
    await dialog.locator('input[name=target][value=source]').check();
    await dialog.locator('#restore-database').fill('9-lives');
    await dialog.locator('#restore-database-error', { hasText: 'starting with a letter' }).waitFor();
    await dialog.locator('#restore-confirm').fill(backup.name);
    const restore = dialog.locator('button[type=submit]:has-text("Restore")');
    expect(await restore.isDisabled()).toBe(true);
    await dialog.locator('#restore-source').selectOption({ label: 'reporting' });
    await dialog.locator('#restore-database').fill(target);
    await dialog.locator('.warning', { hasText: `restored into database ${target} on that source's server` }).waitFor();
    await screenshot(page, 'restore-another-source');
    await restore.click();
    await toast(page, `The restore of ${backup.name} into ${target} is queued.`);

    await page.keyboard.press('Escape');
    await page.click('nav >> text=Restores');
    const row = page.locator('[data-testid=restore-row]', { hasText: `${target} (on reporting's server)` });
    await row.and(page.locator('[data-status=completed]')).waitFor({ timeout: 120_000 });
    const { rows } = await withClient(databaseUrl(target), (client) => client.query<{ n: string }>('SELECT count(*) AS n FROM customers'));
    expect(Number(rows[0]!.n)).toBe(500);
  });

  test('the files archived beside a database are restored into a directory', async () => {
    const source = await scratchDir('files');
    await mkdir(join(source, 'uploads', '2026'), { recursive: true });
    await writeFile(join(source, 'settings.ini'), '[app]\nname = coffre e2e\n');
    await writeFile(join(source, 'uploads', '2026', 'invoice.txt'), 'invoice 42\n'.repeat(100));
    const sources = await web.api<{ items: { id: string; name: string }[] }>('GET', '/api/sources');
    const configuration = await web.api<{ id: string }>('POST', '/api/configurations', {
      name: 'app-with-files',
      sourceId: sources.body.items.find((s) => s.name === 'default')!.id,
      includePaths: [source],
      schedule: { kind: 'manual', timezone: 'UTC' },
    });
    expect(configuration.status).toBe(201);
    filesBackup = await backUp({}, `/api/configurations/${configuration.body.id}/run`);
    const target = join(await scratchDir('restored'), 'here');

    await page.goto(`${web.url}/backups/${filesBackup.id}`);
    const details = page.locator('[data-testid=backup-details]');
    await details.locator('.badge', { hasText: 'files' }).waitFor();
    await details.locator('button:has-text("Restore")').click();
    const dialog = page.locator('[role=dialog]', { hasText: `Restore ${filesBackup.name}` });
    await dialog.locator('input[name=artifact][value=files]').check();
    await dialog.locator('#restore-path').fill('restored/here');
    await dialog.locator('#restore-path-error', { hasText: 'Must be an absolute directory path' }).waitFor();
    await dialog.locator('#restore-path').fill(target);
    await dialog.locator('#restore-confirm').fill(filesBackup.name);
    await screenshot(page, 'restore-files');
    await dialog.locator('button[type=submit]:has-text("Restore")').click();
    await toast(page, `The restore of ${filesBackup.name} into ${target} is queued.`);

    const restores = await until(
      async () => (await web.api<{ items: { id: string; backupId: string; status: string }[] }>('GET', '/api/restores?pageSize=5')).body.items.filter((r) => r.backupId === filesBackup.id),
      (list) => list.length > 0 && list.every((r) => r.status === 'completed' || r.status === 'failed'),
      120_000,
      'the files restore',
    );
    expect(restores[0]!.status).toBe('completed');
    filesRestoreId = restores[0]!.id;
    const base = source.split('/').pop()!;
    expect(await readFile(join(target, base, 'settings.ini'), 'utf8')).toBe('[app]\nname = coffre e2e\n');
    expect(await readFile(join(target, base, 'uploads', '2026', 'invoice.txt'), 'utf8')).toBe('invoice 42\n'.repeat(100));
  });

  test('a bucket backup is restored into another bucket source, under a prefix', async () => {
    await s3.createBucket('media');
    await s3.createBucket('media-restored');
    const media = createS3Storage(s3.options('media'));
    const keys = ['photos/a.jpg', 'photos/b.jpg', 'docs/readme.txt'];
    for (const key of keys) await media.put(key, Readable.from([Buffer.from(`object ${key}`)]));
    const bucket = (name: string, bucketName: string) =>
      web.api<{ id: string }>('POST', '/api/sources', { name, kind: 's3', endpoint: s3.endpoint, bucket: bucketName, accessKeyId: S3_ACCESS_KEY_ID, secretAccessKey: S3_SECRET_ACCESS_KEY, forcePathStyle: true });
    const source = await bucket('media', 'media');
    expect((await bucket('media-copy', 'media-restored')).status).toBe(201);
    const backup = await backUp({ sourceId: source.body.id, name: 'media-nightly' });

    await page.goto(`${web.url}/backups/${backup.id}`);
    await page.locator('[data-testid=backup-details] button:has-text("Restore")').click();
    const dialog = page.locator('[role=dialog]', { hasText: 'Restore media-nightly' });
    await dialog.locator('.warning', { hasText: 'objects are put into the bucket' }).waitFor();
    expect(await dialog.locator('#restore-bucket option:checked').innerText()).toBe('media (where it came from)');
    await dialog.locator('#restore-bucket').selectOption({ label: 'media-copy' });
    await dialog.locator('#restore-prefix').fill('copy/../x');
    await dialog.locator('#restore-prefix-error', { hasText: 'must not contain' }).waitFor();
    await dialog.locator('#restore-prefix').fill('copy');
    await dialog.locator('#restore-confirm').fill('media-nightly');
    await screenshot(page, 'restore-bucket');
    await dialog.locator('button[type=submit]:has-text("Restore")').click();
    await toast(page, 'The restore of media-nightly into media-copy/copy is queued.');
    await page.keyboard.press('Escape');
    await page.click('nav >> text=Restores');
    const row = page.locator('[data-testid=restore-row]', { hasText: 'the bucket of media-copy' });
    await row.and(page.locator('[data-status=completed]')).waitFor({ timeout: 120_000 });
    await screenshot(page, 'restores-kinds');
    const restored = createS3Storage(s3.options('media-restored', 'copy'));
    const listed: string[] = [];
    for await (const object of restored.list()) listed.push(object.key);
    expect(listed.sort()).toEqual([...keys].sort());
  });

  test('the addresses notifications link to open the right panel', async () => {
    // A verification to link to.
    const verification = await web.api<{ id: string }>('POST', `/api/backups/${filesBackup.id}/verify`);
    expect(verification.status).toBe(202);
    await until(
      async () => (await web.api<{ status: string }>('GET', `/api/verifications/${verification.body.id}`)).body.status,
      (status) => status === 'completed' || status === 'failed',
      120_000,
      'the verification',
    );
    const configurations = await web.api<{ items: { id: string; name: string }[] }>('GET', '/api/configurations');
    const configuration = configurations.body.items.find((c) => c.name === 'app-with-files')!;

    await page.goto(`${web.url}/backups/${filesBackup.id}`);
    await page.waitForURL(`${web.url}/history/${filesBackup.id}`);
    await page.locator('[role=dialog] [data-testid=backup-details]').waitFor();
    expect(await page.locator('[role=dialog] h2').first().innerText()).toBe(filesBackup.name);

    await page.goto(`${web.url}/restores/${filesRestoreId}`);
    const restore = page.locator('[role=dialog] [data-testid=restore-details][data-status=completed]');
    await restore.waitFor();
    await restore.locator('[data-testid=restore-log]', { hasText: 'files' }).waitFor();
    await screenshot(page, 'restore-details');
    await page.keyboard.press('Escape');
    await page.waitForURL(`${web.url}/restores`);

    await page.goto(`${web.url}/verifications/${verification.body.id}`);
    await page.locator('[role=dialog] [data-testid=verification-details]').locator('.badge.result-passed').waitFor();
    await screenshot(page, 'verification-details');

    await page.goto(`${web.url}/configurations/${configuration.id}`);
    const details = page.locator('[role=dialog] [data-testid=configuration-details]');
    await details.locator('a', { hasText: filesBackup.name }).waitFor();
    await screenshot(page, 'configuration-details');
    await details.locator('button:has-text("Edit")').click();
    await page.locator('[role=dialog]', { hasText: 'Edit app-with-files' }).waitFor();
    await page.keyboard.press('Escape');

    await page.goto(`${web.url}/destinations`);
    await card('destination-card', 'local').waitFor();

    // An id that does not exist says so in the panel.
    await page.goto(`${web.url}/restores/01a20000-0000-7000-8000-000000000000`);
    await page.locator('[role=dialog] .form-error', { hasText: 'this restore (it does not exist)' }).waitFor();
    expectConsoleErrors(session, /status of 404/, 1);
  });
});

describe('on a phone', () => {
  test('the admin pages, panels and forms fit 390 px without sideways scrolling', async () => {
    const phone = await session.newPage(PHONE);
    await logIn(phone.page, web.url, admin);
    await web.api('POST', '/api/notification-channels', { name: 'team mail', kind: 'email', host: 'smtp.example.com', from: 'coffre@example.com', to: ['ops@example.com', 'dba@example.com'] });
    const pages: [string, string, string][] = [
      ['/notifications', 'notifications', '[data-testid=channel-card]'],
      ['/tokens', 'tokens', '[data-testid=token-row]'],
      ['/users', 'users', '[data-testid=user-row]'],
      ['/destinations', 'destinations-managed', '[data-testid=destination-card]'],
      ['/restores', 'restores-kinds', '[data-testid=restore-row]'],
      [`/restores/${filesRestoreId}`, 'restore-details', '[data-testid=restore-details]'],
      [`/backups/${filesBackup.id}`, 'details-files', '[data-testid=backup-details]'],
    ];
    for (const [path, name, ready] of pages) {
      await phone.page.goto(`${web.url}${path}`);
      await phone.page.locator(ready).first().waitFor();
      const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, `${path} scrolls sideways`).toBeLessThanOrEqual(0);
      await screenshot(phone.page, name);
    }
    const forms: [string, string, string][] = [
      ['/notifications', 'Add a channel', 'channel-form'],
      ['/tokens', 'Create a token', 'token-form'],
      ['/users', 'Add a user', 'user-form'],
      ['/destinations', 'Add a destination', 'destination-form'],
    ];
    for (const [path, button, name] of forms) {
      await phone.page.goto(`${web.url}${path}`);
      await phone.page.click(`button:has-text("${button}")`);
      await phone.page.locator('[role=dialog] form').waitFor();
      if (name === 'destination-form') await phone.page.locator('#dest-kind').selectOption('s3');
      const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, `${name} scrolls sideways`).toBeLessThanOrEqual(0);
      await screenshot(phone.page, name);
    }
    await phone.page.goto(`${web.url}/backups/${filesBackup.id}`);
    await phone.page.locator('[data-testid=backup-details] button:has-text("Restore")').click();
    await phone.page.locator('input[name=artifact][value=files]').check();
    await screenshot(phone.page, 'restore-files');
    await phone.page.goto(`${web.url}/`);
    await phone.page.click('.menu-button');
    await phone.page.locator('nav#nav.sidebar-open a', { hasText: 'API tokens' }).waitFor();
    await screenshot(phone.page, 'menu-admin');
    await phone.context.close();
  });
});
