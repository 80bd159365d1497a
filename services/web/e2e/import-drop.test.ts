// Importing from the history page in Debian's chromium against the real API: a pg_dump file dropped
// on the zone (a real drop event carrying the file) becomes a backup whose details open; a file that
// is not a dump shows the API's sentence; a viewer sees no drop zone.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { DESKTOP, launchBrowser, type BrowserSession } from './support/browser.js';
import { createWebStack, type WebStack } from './support/web-stack.js';
import { expectConsoleErrors, logIn, toast } from './support/ui.js';

let web: WebStack;
let session: BrowserSession;
let page: Page;

beforeAll(async () => {
  web = await createWebStack();
  session = await launchBrowser();
  ({ page } = await session.newPage(DESKTOP));
  page.setDefaultTimeout(60_000);
  await logIn(page, web.url, await web.user('operator'));
});

afterAll(async () => {
  await session?.close();
  await web?.close();
});

/** Drops a file on the zone the way a browser does: a drop event whose DataTransfer holds it. */
async function dropFile(on: Page, name: string, bytes: Buffer): Promise<void> {
  const transfer = await on.evaluateHandle(
    ({ name, base64 }) => {
      const data = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const dataTransfer = new DataTransfer();
      dataTransfer.items.add(new File([data], name, { type: 'application/octet-stream' }));
      return dataTransfer;
    },
    { name, base64: bytes.toString('base64') },
  );
  await on.dispatchEvent('[data-testid=import-drop]', 'dragover', { dataTransfer: transfer });
  await on.dispatchEvent('[data-testid=import-drop]', 'drop', { dataTransfer: transfer });
}

describe('importing on the history page', () => {
  test('a dropped pg_dump file becomes a backup with trigger import, shown at once', async () => {
    await page.goto(`${web.url}/history`);
    const dump = execFileSync('pg_dump', ['-Fc', `--dbname=${web.sourceUrl}`]);
    await dropFile(page, 'app.dump', dump);
    await toast(page, /Imported app\.dump as backup "app-import-full-/);
    await page.waitForURL(/\/history\/[0-9a-f-]{36}/);
    const id = /\/history\/([0-9a-f-]{36})/.exec(page.url())![1]!;
    const backup = await web.api<{ trigger: string; status: string; dumpFormat: string }>('GET', `/api/backups/${id}`);
    expect(backup.body).toMatchObject({ trigger: 'import', status: 'completed', dumpFormat: 'custom' });
  });

  test('a file that is not a dump shows the API\'s sentence', async () => {
    await page.goto(`${web.url}/history`);
    await page.locator('[data-testid=import-file]').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello\n'.repeat(50)) });
    await page.locator('[data-testid=import-drop] [role=alert]', { hasText: /not a PostgreSQL dump.*Nothing was stored/ }).waitFor();
    // The browser logs the refused request (422) itself.
    expectConsoleErrors(session, /422/, 1);
  });

  test('a viewer sees no drop zone', async () => {
    const { page: viewerPage } = await session.newPage(DESKTOP);
    await logIn(viewerPage, web.url, await web.user('viewer'));
    await viewerPage.goto(`${web.url}/history`);
    await viewerPage.locator('[data-testid=history-table]').waitFor();
    expect(await viewerPage.locator('[data-testid=import-drop]').count()).toBe(0);
    expect(session.errors).toEqual([]);
  });
});
