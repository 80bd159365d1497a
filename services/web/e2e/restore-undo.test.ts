// Undoing a restore from the web UI: a restore over the source's own database swaps, its panel says
// what was kept and how long the database was unavailable, and "Undo this restore" brings the
// replaced content back once confirmed.
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { adminQuery, withClient } from '../../../test/support/pg.js';
import { DESKTOP, launchBrowser, screenshot, type BrowserSession } from './support/browser.js';
import { createWebStack, type WebStack } from './support/web-stack.js';
import { logIn, toast } from './support/ui.js';

let web: WebStack;
let session: BrowserSession;
let page: Page;

beforeAll(async () => {
  web = await createWebStack();
  web.stack.startWorkers({ concurrency: 1 });
  session = await launchBrowser();
  ({ page } = await session.newPage(DESKTOP));
  page.setDefaultTimeout(60_000);
});

afterAll(async () => {
  await session?.close();
  const database = new URL(web.sourceUrl).pathname.slice(1);
  for (const { datname } of (await adminQuery<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [`${database}\\_\\_%`])).rows) {
    await adminQuery(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  }
  await web?.close();
});

const customers = async () => Number((await withClient(web.sourceUrl, (c) => c.query<{ n: string }>('SELECT count(*) AS n FROM customers'))).rows[0]!.n);

test('an admin undoes a restore that swapped, from its panel', async () => {
  const backup = await web.api<{ id: string }>('POST', '/api/backups', { name: 'before-undo' });
  expect(backup.status).toBe(202);
  await expect.poll(async () => (await web.api<{ status: string }>('GET', `/api/backups/${backup.body.id}`)).body.status, { timeout: 120_000 }).toBe('completed');
  // Changed after the backup: the restore removes these rows, the undo brings them back.
  await withClient(web.sourceUrl, (c) => c.query("INSERT INTO customers (name) SELECT 'late ' || n FROM generate_series(1, 25) n"));
  expect(await customers()).toBe(525);
  const restore = await web.api<{ id: string }>('POST', `/api/backups/${backup.body.id}/restore`, { confirm: 'before-undo' });
  expect(restore.status).toBe(202);
  await expect.poll(async () => (await web.api<{ status: string }>('GET', `/api/restores/${restore.body.id}`)).body.status, { timeout: 120_000 }).toBe('completed');
  expect(await customers()).toBe(500);

  await logIn(page, web.url, await web.user('admin'));
  await page.goto(`${web.url}/restores/${restore.body.id}`);
  const details = page.locator('[data-testid=restore-details]');
  await details.waitFor();
  await details.locator('text=Replaced database kept as').waitFor();
  await details.locator('text=Unavailable during the swap').waitFor();
  await screenshot(page, 'restore-undo-panel');
  await details.locator('button:has-text("Undo this restore")').click();
  const confirm = page.locator('[role=dialog]', { hasText: 'Undo the restore into' });
  await confirm.waitFor();
  await confirm.locator('button:has-text("Undo restore")').click();
  await toast(page, /Undone: .* is the database the restore replaced again\./);
  expect(await customers()).toBe(525);
  await details.locator('text=Undone').first().waitFor();
  expect(await details.locator('button:has-text("Undo this restore")').count()).toBe(0);
  expect(session.errors).toEqual([]);
});
