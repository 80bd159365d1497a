// Layout and the time rule's remainder (issue 18, items 5 and 2), in Debian's chromium against the
// real API, worker, PostgreSQL and Redis: at 390 px a toast over a dialog leaves its Save and Cancel
// reachable; the retention grid keeps its inputs in line when one shows a problem; backup names say
// their zone (Z), log lines show in the viewer's zone with its label (browser in America/New_York),
// and the charts say that their days are UTC days. Screenshots at 1440 and 390 px, light and dark.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { DESKTOP, PHONE, launchBrowser, screenshot, type BrowserSession } from './support/browser.js';
import { createWebStack, type WebStack } from './support/web-stack.js';
import { expectConsoleErrors, logIn, until } from './support/ui.js';

interface ApiBackup {
  id: string;
  name: string;
  status: string;
}

let web: WebStack;
let session: BrowserSession;
let admin: { username: string; password: string };

beforeAll(async () => {
  web = await createWebStack();
  web.stack.startWorkers();
  session = await launchBrowser();
  admin = await web.user('admin');
  const source = (await web.api<{ items: { id: string; name: string }[] }>('GET', '/api/sources')).body.items.find((s) => s.name === 'default')!;
  const taken = await web.api('POST', '/api/configurations', { name: 'taken', sourceId: source.id, schedule: { kind: 'manual', timezone: 'UTC' } });
  expect(taken.status).toBe(201);
});

afterAll(async () => {
  await session?.close();
  await web?.close();
});

afterEach(() => {
  expect(session.errors).toEqual([]);
});

/** Whether a click at the middle of `selector` lands on it (nothing covers it). */
async function reachable(on: Page, selector: string): Promise<boolean> {
  return on.locator(selector).evaluate((element) => {
    const box = element.getBoundingClientRect();
    const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    return box.bottom <= window.innerHeight && hit !== null && element.contains(hit);
  });
}

describe('layout and the time rule', () => {
  test('at 390 px, a toast over a dialog leaves its Save and Cancel reachable (light and dark)', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      const { context, page } = await session.newPage(PHONE, { colorScheme });
      await logIn(page, web.url, admin);
      await page.goto(`${web.url}/configurations`);
      await page.getByRole('button', { name: 'New configuration' }).click();
      const dialog = page.locator('[role=dialog]');
      await dialog.locator('#cfg-name').fill('taken');
      await dialog.locator('#cfg-source option', { hasText: 'default' }).waitFor({ state: 'attached' });
      await dialog.locator('#cfg-source').selectOption({ label: 'default' });
      const save = '[role=dialog] .dialog-footer button[type=submit]';
      const cancel = '[role=dialog] .dialog-footer button:has-text("Cancel")';
      await page.locator(save).click();
      // The API refuses the taken name: an error toast, which stays until dismissed.
      await page.locator('.toast-error').waitFor();
      expectConsoleErrors(session, /409/, 1);
      const shown = await page.locator('[data-testid=toast]').boundingBox();
      expect(shown && shown.y >= 0 && shown.y + shown.height <= PHONE.height).toBe(true);
      expect(await reachable(page, save)).toBe(true);
      expect(await reachable(page, cancel)).toBe(true);
      await screenshot(page, 'phone-toast-over-dialog');
      await page.locator(cancel).click();
      await dialog.waitFor({ state: 'detached' });
      await context.close();
    }
  });

  test('the retention grid keeps every input in line when one shows a problem, at 1440 and 390 px', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      for (const viewport of [DESKTOP, PHONE]) {
        const { context, page } = await session.newPage(viewport, { colorScheme });
        await logIn(page, web.url, admin);
        await page.goto(`${web.url}/configurations`);
        await page.getByRole('button', { name: 'New configuration' }).click();
        const fields = ['keepLast', 'maxAgeDays', 'daily', 'weekly', 'monthly', 'yearly'];
        const tops = () => Promise.all(fields.map(async (field) => Math.round((await page.locator(`#cfg-${field}`).boundingBox())!.y)));
        await page.locator('#cfg-yearly').scrollIntoViewIfNeeded();
        const before = await tops();
        await page.locator('#cfg-daily').fill('many');
        await page.locator('#cfg-daily-error').waitFor();
        const after = await tops();
        // Inputs that shared a row still share their top, and the row with the problem did not move
        // (rows below make room for the sentence).
        const rows = [...new Set(before)].map((top) => before.flatMap((t, i) => (t === top ? [i] : [])));
        for (const row of rows) expect(new Set(row.map((i) => after[i])).size, `row of ${row.map((i) => fields[i]).join(', ')}`).toBe(1);
        const daily = fields.indexOf('daily');
        expect(after[daily]).toBe(before[daily]);
        // At 1440 px the six fields share rows.
        if (viewport === DESKTOP) expect(rows.length).toBeLessThan(fields.length);
        await screenshot(page, 'retention-error');
        await page.keyboard.press('Escape');
        await context.close();
      }
    }
  });

  test('backup names say their zone, log lines show in the viewer’s zone with its label, and the charts say their days are UTC days', async () => {
    const source = (await web.api<{ items: { id: string; name: string }[] }>('GET', '/api/sources')).body.items.find((s) => s.name === 'default')!;
    const started = await web.api<ApiBackup>('POST', '/api/backups', { sourceId: source.id });
    expect(started.status).toBe(202);
    expect(started.body.name).toMatch(/^default-full-\d{8}-\d{6}Z$/);
    // The stamp is the creation time in UTC.
    const stamp = started.body.name.match(/(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})Z$/)!;
    const created = (await web.api<{ createdAt: string }>('GET', `/api/backups/${started.body.id}`)).body.createdAt;
    expect(`${stamp[1]}-${stamp[2]}-${stamp[3]}T${stamp[4]}:${stamp[5]}:${stamp[6]}`).toBe(created.slice(0, 19));
    await until(async () => (await web.api<ApiBackup>('GET', `/api/backups/${started.body.id}`)).body, (b) => b.status === 'completed', 120_000, 'the backup');

    const newYork = await session.newPage(DESKTOP, { timezoneId: 'America/New_York', locale: 'en-US' });
    await logIn(newYork.page, web.url, admin);
    await newYork.page.goto(`${web.url}/history/${started.body.id}`);
    const times = newYork.page.locator('[data-testid=backup-log] time');
    await times.first().waitFor();
    const first = await times.first().evaluate((time) => ({ text: time.textContent ?? '', stored: time.getAttribute('datetime') ?? '' }));
    expect(first.stored).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const expected = new Date(first.stored).toLocaleString('en-US', { timeZone: 'America/New_York', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' });
    expect(first.text).toBe(expected);
    expect(first.text).toMatch(/ E[SD]T$/);
    await screenshot(newYork.page, 'details-log-new-york');
    await newYork.page.keyboard.press('Escape');
    await newYork.page.goto(web.url);
    expect(await newYork.page.locator('[data-testid=chart-per-day] h2').innerText()).toBe('Backups per day (UTC days)');
    expect(await newYork.page.locator('[data-testid=chart-stored] h2').innerText()).toBe('Stored bytes, last 30 days (UTC)');
    await newYork.context.close();
  });
});
