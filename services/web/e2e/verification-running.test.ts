// A verification in progress under "Running now" (issue 18, item 3), in Debian's chromium against the
// real API, worker, PostgreSQL and Redis: held once its first bytes are read (a failpoint), it shows
// its phase by name, a percentage and an ETA from the last completed verification of the same
// backup, and the time elapsed ticking; let go, it completes and Running now empties. Screenshots at
// 1440 and 390 px, light and dark; axe.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { onFailpoint } from '@coffre/shared';
import type { Page } from 'playwright-core';
import { DESKTOP, PHONE, launchBrowser, screenshot, type BrowserSession } from './support/browser.js';
import { axeViolations } from './support/axe.js';
import { createWebStack, type WebStack } from './support/web-stack.js';
import { logIn, until } from './support/ui.js';

interface ApiRun {
  id: string;
  name?: string;
  status: string;
  phase?: string | null;
}

let web: WebStack;
let session: BrowserSession;
let admin: { username: string; password: string };
let page: Page;
let letGo: () => void = () => {};
let stopHolding: () => void = () => {};

beforeAll(async () => {
  web = await createWebStack();
  web.stack.startWorkers();
  session = await launchBrowser();
  admin = await web.user('admin');
  ({ page } = await session.newPage(DESKTOP, { bypassCSP: true }));
  page.setDefaultTimeout(60_000);
  await logIn(page, web.url, admin);
});

afterAll(async () => {
  letGo();
  stopHolding();
  await session?.close();
  await web?.close();
});

afterEach(() => {
  expect(session.errors).toEqual([]);
});

async function finished(path: string): Promise<ApiRun> {
  return until(async () => (await web.api<ApiRun>('GET', path)).body, (run) => run.status === 'completed' || run.status === 'failed', 120_000, path);
}

describe('a verification in progress', () => {
  let held: ApiRun;

  test('shows under Running now its phase by name, a percentage and an ETA from the last verification of the backup, and the time elapsed ticking', async () => {
    const source = (await web.api<{ items: { id: string; name: string }[] }>('GET', '/api/sources')).body.items.find((s) => s.name === 'default')!;
    const requested = await web.api<ApiRun>('POST', '/api/backups', { sourceId: source.id });
    expect(requested.status).toBe(202);
    const backup = await finished(`/api/backups/${requested.body.id}`);
    expect(backup.status).toBe('completed');
    // The comparable verification took ten minutes: the held one's ETA counts down from there.
    const first = await web.api<ApiRun>('POST', `/api/backups/${backup.id}/verify`);
    expect(first.status).toBe(202);
    expect((await finished(`/api/verifications/${first.body.id}`)).status).toBe('completed');
    await web.stack.ctx.db.verification.update({ where: { id: first.body.id }, data: { durationMs: 600_000 } });

    const released = new Promise<void>((resolve) => (letGo = resolve));
    let heldAt = 0;
    stopHolding = onFailpoint('restore.first-bytes', () => {
      heldAt = Date.now();
      return Promise.race([released, new Promise<void>((resolve) => setTimeout(resolve, 240_000))]);
    });
    const second = await web.api<ApiRun>('POST', `/api/backups/${backup.id}/verify`);
    expect(second.status).toBe(202);
    held = await until(
      async () => (await web.api<ApiRun>('GET', `/api/verifications/${second.body.id}`)).body,
      // Read once the run has been held a second (its phase written): before, it may still move on.
      (v) => heldAt > 0 && Date.now() - heldAt > 1000 && v.status === 'running' && Boolean(v.phase),
      60_000,
      'the verification held while it loads',
    );
    expect(held.phase).toMatch(/^(checking the artifact|loading)$/);

    await page.goto(web.url);
    const job = page.locator(`[data-testid=running-job][data-kind=verification][data-id="${held.id}"]`);
    await job.locator('[data-testid=run-phase]', { hasText: held.phase! }).waitFor();
    const eta = job.locator('[data-testid=run-eta]');
    await eta.filter({ hasText: /[\d.]+ s elapsed · about 9 min \d+ s left$/ }).waitFor();
    const percent = Number(await job.locator('[data-testid=run-progress]').getAttribute('data-percent'));
    expect(percent).toBeGreaterThanOrEqual(0);
    expect(percent).toBeLessThan(5);
    expect(await job.locator('[role=progressbar]').getAttribute('aria-valuenow')).toBe(String(percent));
    expect(await job.locator('.run-basis').innerText()).toBe('Estimated from the last completed verification of this backup.');
    // The elapsed time ticks without a request.
    const seconds = async () => Number((await eta.innerText()).match(/(\d+(?:\.\d)?) s elapsed/)?.[1] ?? NaN);
    const before = await seconds();
    await until(seconds, (now) => now >= before + 2, 10_000, 'the elapsed time to tick');

    const violations: string[] = [];
    for (const colorScheme of ['light', 'dark'] as const) {
      for (const viewport of [DESKTOP, PHONE]) {
        const { context, page: on } = await session.newPage(viewport, { colorScheme, bypassCSP: true });
        await logIn(on, web.url, admin);
        await on.locator(`[data-testid=running-job][data-kind=verification] [data-testid=run-eta]`, { hasText: 'elapsed' }).waitFor();
        if (viewport === DESKTOP) for (const v of await axeViolations(on)) violations.push(`${colorScheme}: ${v.id} (${v.help}) at ${v.targets.join(', ')}`);
        await screenshot(on, 'dashboard-verification-running');
        await context.close();
      }
    }
    expect(violations).toEqual([]);
  });

  test('let go, it completes with every phase in its log, and Running now empties', async () => {
    letGo();
    stopHolding();
    const verification = await until(
      async () => (await web.api<ApiRun & { log?: string | null; result?: string | null }>('GET', `/api/verifications/${held.id}`)).body,
      (v) => v.status === 'completed' || v.status === 'failed',
      120_000,
      'the verification to end',
    );
    expect({ status: verification.status, result: verification.result }).toEqual({ status: 'completed', result: 'passed' });
    expect(verification.log).toMatch(/phase: checking the artifact[\s\S]*phase: counting rows[\s\S]*phase: dropping the scratch database/);
    await page.goto(web.url);
    await page.locator('[data-testid=running-jobs]', { hasText: 'Nothing is running.' }).waitFor();
    expect(await page.locator('[data-testid=running-job]').count()).toBe(0);
  });
});
