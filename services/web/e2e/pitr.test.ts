// Point-in-time recovery in the web UI, against a cluster of the test's own (initdb, replication on):
// the sources page's panel shows each requirement met, an admin turns PITR on with its switch, the
// timeline shows the window from the base backup to the last commit with the backup as a mark, a
// moment before the window is refused in the API's sentence, and a restore to a moment between two
// commits, queued from the form in a viewer's zone of +05:30, completes with exactly the rows
// committed by then. No axe violation with the panel and the form open; screenshots at 1440 and 390
// px in light and dark.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Page } from 'playwright-core';
import { startPostgresCluster, type PostgresCluster } from '../../../test/support/postgres-cluster.js';
import { queryRows } from '../../../test/support/pg.js';
import { axeViolations } from './support/axe.js';
import { DESKTOP, PHONE, launchBrowser, screenshot, type BrowserSession } from './support/browser.js';
import { expectConsoleErrors, logIn, toast, until } from './support/ui.js';
import { createWebStack, type WebStack } from './support/web-stack.js';

// The viewer's zone: the form's wall-clock time is read there, the API gets it with +05:30.
const ZONE = 'Asia/Kolkata';

let cluster: PostgresCluster;
let web: WebStack;
let session: BrowserSession;
let workDir: string;
let sourceId: string;
let admin: { username: string; password: string };
const commits: { id: number; at: Date; segment: string }[] = [];

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'coffre-pitr-web-'));
  await chmod(workDir, 0o755);
  // The cluster and the stack start side by side: neither needs the other until the source is added.
  [cluster, web] = await Promise.all([startPostgresCluster(), createWebStack({ env: { WAL_FLUSH_SECONDS: '1', PITR_WORK_DIR: workDir } })]);
  await sql('postgres', 'CREATE DATABASE shop');
  await sql('shop', 'CREATE TABLE ticks (id int PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())');
  // The WAL stream holds one slot for as long as it runs; the base backup and the restore need others.
  web.stack.startWorkers({ concurrency: 3 });
  const created = await web.api<{ id: string }>('POST', '/api/sources', { name: 'shop', url: cluster.url('shop') });
  expect(created.status).toBe(201);
  sourceId = created.body.id;
  admin = await web.user('admin');
  session = await launchBrowser();
});

afterAll(async () => {
  await session?.close();
  await web?.close();
  await cluster?.destroy();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

function sql<T extends pg.QueryResultRow>(database: string, text: string): Promise<T[]> {
  return queryRows<T>(cluster.url(database), text);
}

/** A moment as the viewer's wall clock shows it, to the second: "2026-11-30T11:05:07". */
const wallClock = (at: Date) => at.toLocaleString('sv-SE', { timeZone: ZONE }).replace(' ', 'T');

async function openPanel(on: Page) {
  await on.goto(`${web.url}/sources`);
  await on.getByRole('button', { name: 'Point-in-time recovery of shop' }).click();
  const panel = on.locator('[data-testid=pitr-panel]');
  await panel.waitFor();
  return panel;
}

/** Waits until the timeline shows the window reaching `at`. */
async function timelineReaches(on: Page, at: Date) {
  const timeline = on.locator('[data-testid=pitr-timeline]');
  await until(() => timeline.getAttribute('data-latest'), (latest) => !!latest && Date.parse(latest) > at.getTime(), 60_000, 'the timeline to reach the last commit');
  return timeline;
}

describe('point-in-time recovery in the web UI', () => {
  let page: Page;

  test('the panel checks the requirements, turns PITR on, and the timeline shows the window with its base backup', async () => {
    ({ page } = await session.newPage(DESKTOP, { timezoneId: ZONE, bypassCSP: true }));
    page.setDefaultTimeout(60_000);
    await logIn(page, web.url, admin);
    const panel = await openPanel(page);
    await panel.locator('[data-testid=pitr-requirements][data-ok=true]').waitFor();
    const requirements = panel.locator('[data-testid=pitr-requirement]');
    expect(await requirements.count()).toBe(8);
    expect(await panel.locator('[data-testid=pitr-requirement][data-ok=false]').count()).toBe(0);
    expect(await panel.locator('[data-testid=pitr-requirement][data-name=wal_level]').innerText()).toContain('wal_level is replica.');
    expect(await panel.locator('[data-testid=pitr-timeline]').getAttribute('data-empty')).toBe('true');

    expect(await page.getByRole('switch', { name: 'Point-in-time recovery of shop' }).isChecked()).toBe(false);
    await panel.locator('.switch').click();
    await toast(page, 'Point-in-time recovery of shop is on.');
    await page.locator('[data-testid=pitr-panel][data-enabled=true]').waitFor();

    const base = await web.api<{ id: string; name: string }>('POST', '/api/backups', { sourceId, type: 'physical' });
    expect(base.status).toBe(202);
    const taken = await until(
      async () => (await web.api<{ status: string; completedAt: string | null; errorMessage: string | null }>('GET', `/api/backups/${base.body.id}`)).body,
      (b) => b.status === 'completed' || b.status === 'failed',
      120_000,
      'the base backup',
    );
    expect(taken.errorMessage).toBeNull();
    // Rows each in a segment of its own, then a commit after the last.
    for (let id = 1; id <= 3; id++) {
      // The third row more than a second after the second: a whole second fits between them.
      if (id === 3) await new Promise((resolve) => setTimeout(resolve, 1300));
      const at = (await sql<{ at: Date }>('shop', `INSERT INTO ticks (id) VALUES (${id}) RETURNING at`))[0]!.at;
      const segment = (await sql<{ name: string }>('shop', 'SELECT pg_walfile_name(pg_current_wal_insert_lsn()) AS name'))[0]!.name;
      await sql('shop', 'SELECT pg_switch_wal()');
      commits.push({ id, at, segment });
      // Stored before the next row: the window's end before a break is then before the next commit.
      await until(() => web.stack.ctx.db.walFile.findFirst({ where: { sourceId, name: segment, kind: 'segment' } }), (file) => file !== null, 60_000, `segment ${segment} stored`);
    }
    await sql('shop', 'CREATE TABLE after_the_rows (x int)');

    const timeline = await timelineReaches(page, commits.at(-1)!.at);
    expect(await timeline.getAttribute('data-earliest')).toBe(taken.completedAt);
    expect(await timeline.locator('[data-testid=pitr-base-backup]').innerText()).toContain(base.body.name);
    expect(await timeline.locator('[data-testid=pitr-span]').count()).toBe(1);
    expect(await timeline.locator('[data-testid=pitr-gap]').count()).toBe(0);
    // The time rule: the viewer's zone label, and how long ago.
    expect(await timeline.locator('[data-testid=pitr-end] .time-absolute').innerText()).toMatch(/GMT\+5:30|IST/);
    expect(await timeline.locator('[data-testid=pitr-end] .time-relative').innerText()).toMatch(/ago/);
    expect(await axeViolations(page)).toEqual([]);
  });

  test('a restore to a moment queued from the form completes with exactly the rows of that moment', async () => {
    await page.getByRole('button', { name: 'Restore to a moment' }).click();
    const form = page.locator('[role=dialog]', { hasText: 'Restore shop to a moment' });
    await form.locator('#pitr-moment').waitFor();
    // Chromium names the zone by its older IANA name.
    expect(await form.locator('label[for=pitr-moment]').innerText()).toMatch(/Asia\/(Kolkata|Calcutta)/);
    await form.locator('#pitr-new-database').fill('shop_at_t');
    await form.locator('#pitr-confirm').fill('shop_at_t');
    expect(await axeViolations(page)).toEqual([]);

    // An hour before the window: the API refuses, and the form says it in the API's words.
    const earliest = Date.parse((await page.locator('[data-testid=pitr-timeline]').getAttribute('data-earliest'))!);
    await form.locator('#pitr-moment').fill(wallClock(new Date(earliest - 3600_000)));
    await form.getByRole('button', { name: 'Restore to this moment' }).click();
    const refusal = form.locator('[data-testid=api-error]');
    await refusal.waitFor();
    expect(await refusal.innerText()).toMatch(/ is outside the recovery window: restores are possible from \S+ to \S+\.$/);
    expectConsoleErrors(session, /status of 409/, 1);
    await screenshot(page, 'pitr-restore-refused');

    // A whole second between the second and the third row, a quarter of a second at least after the
    // second row's timestamp (its commit record comes a little later than clock_timestamp()).
    const moment = new Date(Math.ceil((commits[1]!.at.getTime() + 250) / 1000) * 1000);
    expect(moment.getTime()).toBeLessThan(commits[2]!.at.getTime());
    await form.locator('#pitr-moment').fill(wallClock(moment));
    await form.getByRole('button', { name: 'Restore to this moment' }).click();
    await toast(page, 'The restore of shop to a moment into shop_at_t is queued.');
    await page.locator('[data-testid=toast] a', { hasText: 'Follow it' }).click();
    await page.waitForURL(/\/restores\/[0-9a-f-]{36}$/);
    const restoreId = page.url().split('/').pop()!;
    const finished = await until(
      async () => (await web.api<{ status: string; errorMessage: string | null; targetTime: string | null }>('GET', `/api/restores/${restoreId}`)).body,
      (r) => r.status === 'completed' || r.status === 'failed',
      180_000,
      'the restore to a moment',
    );
    expect(finished.errorMessage).toBeNull();
    expect(finished.status).toBe('completed');
    expect(finished.targetTime).toBe(moment.toISOString());
    expect((await sql<{ id: number }>('shop_at_t', 'SELECT id FROM ticks ORDER BY id')).map((r) => r.id)).toEqual([1, 2]);
    expect(session.errors).toEqual([]);
  });

  test('a segment deleted from storage shows as a break in red, with from when no restore is possible', async () => {
    const lost = await web.stack.ctx.db.walFile.findFirstOrThrow({ where: { sourceId, name: commits[2]!.segment, kind: 'segment' } });
    await rm(join(web.stack.config.BACKUP_DIR, lost.key));
    const panel = await openPanel(page);
    await panel.locator('[data-testid=pitr-base-backup]').waitFor();
    expect(await panel.locator('[data-testid=pitr-gap]').count()).toBe(0);
    await panel.getByRole('button', { name: 'Check the stored WAL' }).click();
    const gap = panel.locator('[data-testid=pitr-gap]');
    await gap.waitFor();
    const text = (await gap.innerText()).trim();
    expect(text).toContain(`WAL file ${lost.name} is damaged`);
    expect(text).toMatch(/^No restore from .*GMT\+5:30 to /);
    expect(await gap.getAttribute('class')).toContain('bad-text');
    expect(await panel.locator('.timeline-gap').count()).toBe(1);
    // The window now ends where the break starts: before the third row.
    const latest = Date.parse((await panel.locator('[data-testid=pitr-timeline]').getAttribute('data-latest'))!);
    expect(latest).toBeGreaterThanOrEqual(commits[1]!.at.getTime());
    expect(latest).toBeLessThan(commits[2]!.at.getTime());
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, 'pitr-panel-break');
    expect(session.errors).toEqual([]);
  });

  test('panel and form: no axe violation in dark; screenshots at 1440 and 390 px in light and dark', async () => {
    // The panel still open on the break: one page, its colour scheme and width changed in place.
    const found: string[] = [];
    const each = async (name: string) => {
      for (const colorScheme of ['light', 'dark'] as const) {
        await page.emulateMedia({ colorScheme });
        await page.locator(`html[data-theme=${colorScheme}]`).waitFor({ state: 'attached' });
        if (colorScheme === 'dark') for (const v of await axeViolations(page)) found.push(`dark ${name}: ${v.id} (${v.help}) at ${v.targets.slice(0, 3).join(', ')}`);
        for (const viewport of [DESKTOP, PHONE]) {
          await page.setViewportSize(viewport);
          await screenshot(page, name);
        }
        await page.setViewportSize(DESKTOP);
      }
    };
    await page.locator('[data-testid=pitr-gap]').waitFor();
    await each('pitr-panel');
    await page.getByRole('button', { name: 'Restore to a moment' }).click();
    await page.locator('#pitr-moment').waitFor();
    await each('pitr-restore');
    expect(found).toEqual([]);
    expect(session.errors).toEqual([]);
  });
});
