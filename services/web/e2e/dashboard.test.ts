// The dashboard's first answer in Debian's chromium against the real API, worker, PostgreSQL and
// Redis: is every source protected, and since when? An empty installation guided step by step; a
// configuration failing every run shown failing (and `coffre doctor` agreeing); a protected source
// with its last success, next run, last runs and size trend; the time rule with the browser in
// America/New_York and a schedule in Europe/Paris. One stack and one browser for the file.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { databaseUrl } from '../../../test/support/env.js';
import { runCli, privateHome, removePrivateHomes } from '../../cli/test/support/cli.js';
import { DESKTOP, PHONE, launchBrowser, screenshot, type BrowserSession } from './support/browser.js';
import { axeViolations } from './support/axe.js';
import { createWebStack, type WebStack } from './support/web-stack.js';
import { expectConsoleErrors, logIn, toast, until } from './support/ui.js';

interface ApiBackup {
  id: string;
  name: string;
  status: string;
  configurationId: string | null;
}

let web: WebStack;
let session: BrowserSession;
let admin: { username: string; password: string };
let page: Page;
let shopConfigurationId = '';

beforeAll(async () => {
  web = await createWebStack();
  session = await launchBrowser();
  admin = await web.user('admin');
  ({ page } = await session.newPage(DESKTOP));
  page.setDefaultTimeout(60_000);
  await logIn(page, web.url, admin);
});

afterAll(async () => {
  removePrivateHomes();
  await session?.close();
  await web?.close();
});

afterEach(() => {
  expect(session.errors).toEqual([]);
});

async function finished(id: string): Promise<ApiBackup> {
  return until(
    async () => (await web.api<ApiBackup>('GET', `/api/backups/${id}`)).body,
    (backup) => backup.status === 'completed' || backup.status === 'failed',
    120_000,
    `backup ${id}`,
  );
}

async function runConfiguration(id: string): Promise<ApiBackup> {
  const started = await web.api<ApiBackup>('POST', `/api/configurations/${id}/run`);
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  return finished(started.body.id);
}

function protectionCard(on: Page, source: string) {
  return on.locator(`[data-testid=protection-card][data-name="${source}"]`);
}

describe('the dashboard', () => {
  test('guides an empty installation through source, destination, schedule and first backup instead of empty charts', async () => {
    const guide = page.locator('[data-testid=setup-guide]');
    await guide.waitFor();
    const steps = await guide.locator('[data-testid=setup-step]').evaluateAll((all) => all.map((li) => [li.getAttribute('data-step'), li.getAttribute('data-done')]));
    expect(steps).toEqual([
      ['source', 'true'],
      ['destination', 'true'],
      ['schedule', 'false'],
      ['backup', 'false'],
    ]);
    // The next step to take is the only one with a button, and it leads there.
    expect(await guide.locator('a.button').allInnerTexts()).toEqual(['Go to configurations']);
    expect(await page.locator('[data-testid=chart-per-day], [data-testid=chart-stored], [data-testid=stats]').count()).toBe(0);
    await protectionCard(page, 'default').and(page.locator('[data-status=unprotected]')).waitFor();
    await screenshot(page, 'dashboard-empty');
  });

  test('shows a source whose configuration fails every run as failing, with its reason and a Retry, and coffre doctor agrees', async () => {
    web.stack.startWorkers();
    const broken = await web.api<{ id: string }>('POST', '/api/sources', { name: 'broken', url: databaseUrl('coffre_e2e_dashboard_missing') });
    expect(broken.status).toBe(201);
    const configuration = await web.api<{ id: string }>('POST', '/api/configurations', {
      name: 'broken-nightly',
      sourceId: broken.body.id,
      schedule: { kind: 'daily', time: '03:00', timezone: 'UTC' },
    });
    expect(configuration.status).toBe(201);
    for (let run = 0; run < 2; run += 1) expect((await runConfiguration(configuration.body.id)).status).toBe('failed');

    const card = protectionCard(page, 'broken');
    await card.and(page.locator('[data-status=failing]')).waitFor();
    const badge = card.locator('[data-testid=protection-status]');
    expect(await badge.innerText()).toBe('failing');
    // The rule is the badge's tooltip: shown on hover, and its accessible description.
    await badge.hover();
    const tooltip = card.locator('[role=tooltip]');
    await tooltip.waitFor({ state: 'visible' });
    expect(await tooltip.innerText()).toMatch(/^Failing: the newest run failed \(.*does not exist.*\); no backup has ever completed/);
    expect(await badge.getAttribute('aria-describedby')).toBe(await tooltip.getAttribute('id'));
    expect(await card.locator('.run-dot[data-status=failed]').count()).toBe(2);

    const failures = page.locator('[data-testid=recent-failures] [data-testid=failure]');
    await failures.first().waitFor();
    const newest = failures.filter({ hasText: 'broken-nightly' }).first();
    expect(await newest.locator('[data-testid=failure-reason]').innerText()).toMatch(/does not exist/);
    const failedName = (await newest.getAttribute('data-name'))!;
    await screenshot(page, 'dashboard-failing');

    // Retry: a new backup of the same configuration, which fails the same way.
    // Repeated on every failure, the button's name says which one it retries.
    expect(await newest.getByRole('button').getAttribute('aria-label')).toBe(`Retry ${failedName}`);
    await newest.getByRole('button', { name: `Retry ${failedName}` }).click();
    await toast(page, `(a retry of ${failedName})`);
    const list = await web.api<{ items: ApiBackup[] }>('GET', `/api/backups?configurationId=${configuration.body.id}&pageSize=5`);
    expect(list.body.items).toHaveLength(3);
    expect((await finished(list.body.items[0]!.id)).status).toBe('failed');

    const home = privateHome();
    const doctor = await runCli(['doctor', '--json'], { env: { ...web.stack.env, HOME: home } });
    const report = JSON.parse(doctor.stdout) as { checks: { id: string; subject: string | null; status: string; message: string }[] };
    const last = report.checks.find((c) => c.id === 'last-backups' && c.subject === 'broken-nightly');
    expect(last?.status).toBe('fail');
    expect(last?.message).toMatch(/^Failing: its newest run failed; it has never completed a backup/);
    expect(doctor.code).toBe(1);
  });

  test('shows a protected source with its last success, next run, last runs (each a link) and size trend', async () => {
    const configuration = await web.api<{ id: string }>('POST', '/api/configurations', {
      name: 'shop-nightly',
      sourceId: (await web.api<{ items: { id: string; name: string }[] }>('GET', '/api/sources')).body.items.find((s) => s.name === 'default')!.id,
      schedule: { kind: 'daily', time: '02:30', timezone: 'Europe/Paris' },
    });
    expect(configuration.status).toBe(201);
    shopConfigurationId = configuration.body.id;
    const first = await runConfiguration(shopConfigurationId);
    const second = await runConfiguration(shopConfigurationId);
    expect([first.status, second.status]).toEqual(['completed', 'completed']);

    const card = protectionCard(page, 'default');
    await card.and(page.locator('[data-status=protected]')).waitFor();
    await page.locator('[data-testid=setup-guide]').waitFor({ state: 'detached' });
    await page.locator('[data-testid=stats]').waitFor();
    expect(await card.locator('[data-testid=last-success] time').getAttribute('datetime')).toBeTruthy();
    expect(await card.locator('[data-testid=last-success]').innerText()).toMatch(/\(less than a minute ago\)|\(\d+ min ago\)/);
    expect(await card.locator('[data-testid=next-run]').innerText()).toMatch(/02:30/);
    await card.locator('[data-testid=size-trend]').waitFor();
    const dots = card.locator('a.run-dot');
    expect(await dots.evaluateAll((all) => all.map((a) => a.getAttribute('data-status')))).toEqual(['completed', 'completed']);
    await screenshot(page, 'dashboard');

    expect(await dots.last().getAttribute('aria-label')).toMatch(new RegExp(`^${second.name}: completed, `));
    await dots.last().click();
    await page.waitForURL(new RegExp(`/history/${second.id}$`));
    await page.locator('[data-testid=backup-details]').waitFor();
    await page.keyboard.press('Escape');
    await page.goto(web.url);
  });

  test('stays live over one server-sent events stream: an idle dashboard asks the API nothing for 30 s, and a new backup still shows', async () => {
    const idle = await session.newPage(DESKTOP);
    const requests: string[] = [];
    idle.page.on('request', (request) => requests.push(new URL(request.url()).pathname));
    await logIn(idle.page, web.url, admin);
    await protectionCard(idle.page, 'default').waitFor();
    await idle.page.locator('[data-testid=stats]').waitFor();
    // Let the first reads settle, then count every request the page makes while nothing happens.
    await idle.page.waitForLoadState('networkidle');
    const settled = requests.length;
    const started = Date.now();
    await until(async () => Date.now() - started, (elapsed) => elapsed >= 30_000, 40_000, '30 idle seconds');
    console.log(`requests during 30 idle seconds on the dashboard: ${requests.length - settled}`);
    expect(requests.slice(settled)).toEqual([]);
    // One stream for the whole visit.
    expect(requests.filter((path) => path === '/api/events')).toEqual(['/api/events']);
    // Live all the same: a backup queued elsewhere appears in its source's strip without a reload.
    const before = await protectionCard(idle.page, 'default').locator('a.run-dot').count();
    const started2 = await web.api<ApiBackup>('POST', `/api/configurations/${shopConfigurationId}/run`);
    expect(started2.status).toBe(202);
    await until(() => protectionCard(idle.page, 'default').locator('a.run-dot').count(), (n) => n === before + 1, 20_000, 'the new run in the strip');
    expect((await finished(started2.body.id)).status).toBe('completed');
    await idle.context.close();
  });

  test('shows times in the viewer’s zone with their label, and a schedule’s in its own zone too (browser in America/New_York, schedule in Europe/Paris)', async () => {
    const newYork = await session.newPage(DESKTOP, { timezoneId: 'America/New_York', locale: 'en-US' });
    await logIn(newYork.page, web.url, admin);
    const nextRun = protectionCard(newYork.page, 'default').locator('[data-testid=next-run]');
    await nextRun.waitFor();
    // The schedule's own time and zone first (02:30 in Paris), then the viewer's (New York), then how soon.
    expect(await nextRun.innerText()).toMatch(/02:30 AM GMT\+[12] · .*(08|09):30 PM E[DS]T \(in \d+/);
    expect(await protectionCard(newYork.page, 'default').locator('[data-testid=last-success]').innerText()).toMatch(/E[DS]T \(/);

    // The configuration form previews the next 5 runs as the schedule is typed, in both zones.
    await newYork.page.goto(`${web.url}/configurations`);
    await newYork.page.getByRole('button', { name: 'New configuration' }).click();
    const dialog = newYork.page.locator('[role=dialog]');
    await dialog.locator('#cfg-time').fill('02:30');
    await dialog.locator('#cfg-tz').fill('Europe/Paris');
    const previews = dialog.locator('[data-testid=next-run-preview]');
    await until(() => previews.allInnerTexts(), (texts) => texts.length === 5 && texts.every((t) => /02:30 AM GMT\+[12] · .*E[DS]T for you/.test(t)), 10_000, 'five previewed runs');
    // A cron expression is described in words as it is typed.
    await dialog.locator('#cfg-kind').selectOption('cron');
    await dialog.locator('#cfg-cron').fill('30 2 * * 1-5');
    await dialog.locator('[data-testid=cron-words]', { hasText: 'At 02:30, Monday through Friday' }).waitFor();
    const weekdays = await previews.allInnerTexts();
    expect(weekdays).toHaveLength(5);
    await screenshot(newYork.page, 'configuration-form-preview');
    await newYork.context.close();
    expectConsoleErrors(session, /never/, 0);
  });

  test('follows the system’s dark mode, and the toggle overrides it and is remembered', async () => {
    const darkSystem = await session.newPage(DESKTOP, { colorScheme: 'dark' });
    await logIn(darkSystem.page, web.url, admin);
    const theme = () => darkSystem.page.evaluate(() => document.documentElement.dataset.theme);
    expect(await theme()).toBe('dark');
    const background = () => darkSystem.page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
    expect(await background()).toBe('rgb(15, 20, 27)');
    const toggle = darkSystem.page.locator('[data-testid=theme-toggle]');
    await toggle.click();
    expect(await toggle.getAttribute('data-choice')).toBe('light');
    expect(await theme()).toBe('light');
    await darkSystem.page.reload();
    await darkSystem.page.locator('[data-testid=protection-card]').first().waitFor();
    expect(await theme()).toBe('light');
    expect(await darkSystem.page.locator('[data-testid=theme-toggle]').getAttribute('aria-label')).toBe('Theme: light. Switch to dark');
    await darkSystem.context.close();
  });

  test('has no axe violation on any page, with dialogs open too, in light and dark; screenshots at 1440 and 390 px in both', async () => {
    const backups = await web.api<{ items: { id: string; status: string }[] }>('GET', '/api/backups?status=completed&pageSize=1');
    const backupId = backups.body.items[0]!.id;
    const pages: [string, string, string][] = [
      ['/', 'dashboard', '[data-testid=protection-card]'],
      ['/configurations', 'configurations', '[data-testid=configuration-card]'],
      [`/configurations/${shopConfigurationId}`, 'configuration-details', '[data-testid=configuration-details]'],
      ['/history', 'history', '[data-testid=history-row]'],
      [`/history/${backupId}`, 'details', '[data-testid=backup-details]'],
      ['/restores', 'restores', 'main h1'],
      ['/verifications', 'verifications', 'main h1'],
      ['/sources', 'sources', '[data-testid=source-card]'],
      ['/destinations', 'destinations', '[data-testid=destination-card]'],
    ];
    const found: string[] = [];
    for (const colorScheme of ['light', 'dark'] as const) {
      for (const viewport of [DESKTOP, PHONE]) {
        const { context, page: on } = await session.newPage(viewport, { colorScheme, bypassCSP: true });
        await logIn(on, web.url, admin);
        const check = async (what: string) => {
          if (viewport !== DESKTOP) return;
          for (const v of await axeViolations(on)) found.push(`${colorScheme} ${what}: ${v.id} (${v.help}) at ${v.targets.slice(0, 3).join(', ')}`);
        };
        for (const [path, name, ready] of pages) {
          await on.goto(`${web.url}${path}`);
          await on.locator(ready).first().waitFor();
          await on.waitForLoadState('networkidle');
          await check(path);
          await screenshot(on, name);
        }
        // Dialogs open: a form, a confirmation, the restore form.
        await on.goto(`${web.url}/configurations`);
        await on.getByRole('button', { name: 'New configuration' }).click();
        await on.locator('[role=dialog] [data-testid=next-run-preview]').first().waitFor();
        await check('the configuration form');
        await screenshot(on, 'configuration-form');
        await on.keyboard.press('Escape');
        await on.goto(`${web.url}/history/${backupId}`);
        await on.locator('[data-testid=backup-details] button', { hasText: 'Restore' }).click();
        await on.locator('[role=dialog]', { hasText: 'Restore ' }).locator('#restore-confirm').waitFor();
        await check('the restore form');
        await screenshot(on, 'restore-dialog');
        await context.close();
      }
    }
    expect(found).toEqual([]);
  });
});
