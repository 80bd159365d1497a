// Long runs (issue 18, item 3) in Debian's chromium against the real API, worker, PostgreSQL and
// Redis: a backup held running (pg_dump waits for a lock this test holds) shows its phase by name,
// the time elapsed ticking, a percentage and an ETA from the last comparable completed run, and its
// log arriving while it runs; a restore held after its check (loaded beside its target, not yet
// swapped in) and a verification waiting for a worker show under "Running now" beside it. Screenshots at 1440 and 390 px, light and dark; axe.
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { onFailpoint } from '@coffre/shared';
import type { Page } from 'playwright-core';
import { adminQuery, withClient } from '../../../test/support/pg.js';
import { databaseUrl, uniqueName } from '../../../test/support/env.js';
import { DESKTOP, PHONE, launchBrowser, screenshot, type BrowserSession } from './support/browser.js';
import { axeViolations } from './support/axe.js';
import { createWebStack, type WebStack } from './support/web-stack.js';
import { logIn, until } from './support/ui.js';

interface ApiRun {
  id: string;
  name?: string;
  status: string;
  phase?: string | null;
  log?: string | null;
}

let web: WebStack;
let session: BrowserSession;
let admin: { username: string; password: string };
let page: Page;
const databases: string[] = [];
const holders: pg.Client[] = [];

beforeAll(async () => {
  web = await createWebStack();
  // One job at a time per queue: a restore held before its swap keeps a verification waiting.
  web.stack.startWorkers({ concurrency: 1 });
  session = await launchBrowser();
  admin = await web.user('admin');
  ({ page } = await session.newPage(DESKTOP, { bypassCSP: true }));
  page.setDefaultTimeout(60_000);
  await logIn(page, web.url, admin);
});

afterAll(async () => {
  for (const holder of holders) await holder.end().catch(() => {});
  await session?.close();
  // The databases swaps replaced, kept beside their targets under names cut to fit (<db>__before_restore_<time>).
  const kept = web ? await web.stack.ctx.db.restore.findMany({ where: { keptDatabase: { not: null } }, select: { keptDatabase: true } }) : [];
  await web?.close();
  for (const name of [...databases, ...kept.map((r) => r.keptDatabase!)]) await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
});

afterEach(() => {
  expect(session.errors).toEqual([]);
});

async function finished(path: string): Promise<ApiRun> {
  return until(async () => (await web.api<ApiRun>('GET', path)).body, (run) => run.status === 'completed' || run.status === 'failed', 120_000, path);
}

/** Holds ACCESS EXCLUSIVE on a table: pg_dump of its database waits until the test lets go. */
async function holdTable(url: string, table: string): Promise<pg.Client> {
  const holder = new pg.Client({ connectionString: url });
  await holder.connect();
  holders.push(holder);
  await holder.query('BEGIN');
  await holder.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
  return holder;
}

describe('long runs', () => {
  let configurationId = '';
  let firstBackup: ApiRun;
  let heldBackup: ApiRun;
  let heldRestore: ApiRun;
  let waitingVerification: ApiRun;
  let restoreTarget = '';
  let sourceDb: pg.Client;
  let letRestoreGo: () => void = () => {};
  let stopHolding: () => void = () => {};

  test('a backup held running shows its phase, elapsed time, percentage and ETA from the last comparable backup, and its log as it comes', async () => {
    const source = (await web.api<{ items: { id: string; name: string }[] }>('GET', '/api/sources')).body.items.find((s) => s.name === 'default')!;
    const configuration = await web.api<{ id: string }>('POST', '/api/configurations', { name: 'shop', sourceId: source.id, schedule: { kind: 'manual', timezone: 'UTC' } });
    expect(configuration.status).toBe(201);
    configurationId = configuration.body.id;
    const first = await web.api<ApiRun>('POST', `/api/configurations/${configurationId}/run`);
    firstBackup = await finished(`/api/backups/${first.body.id}`);
    expect(firstBackup.status).toBe('completed');
    // The comparable run took ten minutes: the held run's ETA counts down from there.
    await web.stack.ctx.db.backup.update({ where: { id: firstBackup.id }, data: { durationMs: 600_000 } });

    sourceDb = await holdTable(web.sourceUrl, 'customers');
    const started = await web.api<ApiRun>('POST', `/api/configurations/${configurationId}/run`);
    expect(started.status).toBe(202);
    heldBackup = started.body;
    await until(async () => (await web.api<ApiRun>('GET', `/api/backups/${heldBackup.id}`)).body, (b) => b.status === 'running' && b.phase === 'dumping', 60_000, 'the backup dumping');

    await page.goto(web.url);
    const job = page.locator(`[data-testid=running-job][data-kind=backup][data-id="${heldBackup.id}"]`);
    await job.locator('[data-testid=run-phase]', { hasText: 'dumping' }).waitFor();
    const eta = job.locator('[data-testid=run-eta]');
    await eta.filter({ hasText: /[\d.]+ s elapsed · about 9 min \d+ s left$/ }).waitFor();
    const percent = Number(await job.locator('[data-testid=run-progress]').getAttribute('data-percent'));
    expect(percent).toBeGreaterThanOrEqual(0);
    expect(percent).toBeLessThan(5);
    expect(await job.locator('[role=progressbar]').getAttribute('aria-valuenow')).toBe(String(percent));
    expect(await job.locator('.run-basis').innerText()).toBe(`Estimated from the last completed backup of the same configuration (${firstBackup.name}).`);
    // The elapsed time ticks without a request.
    const seconds = async () => Number((await eta.innerText()).match(/(\d+(?:\.\d)?) s elapsed/)?.[1] ?? NaN);
    const before = await seconds();
    await until(seconds, (now) => now >= before + 2, 10_000, 'the elapsed time to tick');

    // Its log streams while it runs: the details show the lines written so far, the row is still running.
    await job.getByRole('link', { name: heldBackup.name }).click();
    const log = page.locator('[data-testid=backup-log]');
    await log.filter({ hasText: 'phase: dumping' }).waitFor();
    expect(await log.innerText()).toMatch(/info backing up default \(full\) to /);
    expect((await web.api<ApiRun>('GET', `/api/backups/${heldBackup.id}`)).body.status).toBe('running');
    await page.locator('[data-testid=backup-details] [data-testid=run-phase]', { hasText: 'dumping' }).waitFor();
    for (const v of await axeViolations(page)) throw new Error(`axe, running backup details: ${v.id} (${v.help}) at ${v.targets.join(', ')}`);
    await screenshot(page, 'details-running');
    await page.keyboard.press('Escape');
  });

  test('a restore held before its swap and a verification waiting for a worker show under Running now beside the backup', async () => {
    // A first restore into a new database: the comparable one.
    const into = uniqueName('coffre_e2e_longrun_new');
    databases.push(into);
    const first = await web.api<ApiRun>('POST', `/api/backups/${firstBackup.id}/restore`, { confirm: firstBackup.name, targetDatabase: into });
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    expect((await finished(`/api/restores/${first.body.id}`)).status).toBe('completed');
    await web.stack.ctx.db.restore.update({ where: { id: first.body.id }, data: { durationMs: 600_000 } });

    // The second goes over an existing database: loaded beside it and checked, it is held before the swap.
    restoreTarget = uniqueName('coffre_e2e_longrun_held');
    databases.push(restoreTarget);
    await adminQuery(`CREATE DATABASE "${restoreTarget}"`);
    await withClient(databaseUrl(restoreTarget), (client) => client.query('CREATE TABLE kept (id int)'));
    const released = new Promise<void>((resolve) => (letRestoreGo = resolve));
    stopHolding = onFailpoint('restore.after-check', () => Promise.race([released, new Promise<void>((resolve) => setTimeout(resolve, 240_000))]));
    const held = await web.api<ApiRun>('POST', `/api/backups/${firstBackup.id}/restore`, { confirm: firstBackup.name, targetDatabase: restoreTarget });
    expect(held.status, JSON.stringify(held.body)).toBe(202);
    heldRestore = held.body;
    await until(async () => (await web.api<ApiRun>('GET', `/api/restores/${heldRestore.id}`)).body, (r) => r.status === 'running' && r.phase === 'counting rows', 60_000, 'the restore held before its swap');
    const verification = await web.api<ApiRun>('POST', `/api/backups/${firstBackup.id}/verify`);
    expect(verification.status).toBe(202);
    waitingVerification = verification.body;

    await page.goto(web.url);
    const restore = page.locator(`[data-testid=running-job][data-kind=restore][data-id="${heldRestore.id}"]`);
    await restore.locator('[data-testid=run-phase]', { hasText: 'counting rows' }).waitFor();
    // Held after its load was checked (every row in), its estimate goes by the time of the comparable restore.
    await restore.locator('[data-testid=run-eta]', { hasText: /elapsed · (about .+ left|longer than the last one)$/ }).waitFor();
    expect(await restore.locator('.run-basis').innerText()).toBe('Estimated from the size of the artifact, the rows the backup holds and the last completed restore of this backup.');
    // Every row is in (the load was checked): the rows loaded, of the rows the backup holds.
    expect(await restore.locator('[data-testid=run-eta]').innerText()).toMatch(/^\d+ % · ([\d,]+) of \1 rows loaded · /);
    const waiting = page.locator(`[data-testid=running-job][data-kind=verification][data-id="${waitingVerification.id}"]`);
    await waiting.locator('[data-testid=run-waiting]', { hasText: 'Waiting for a worker' }).waitFor();
    // The held backup is the one backup running: a restore that swaps takes no safety backup.
    const kinds = await page.locator('[data-testid=running-job]').evaluateAll((all) => all.map((li) => li.getAttribute('data-kind')));
    expect(kinds.filter((kind) => kind !== 'backup')).toEqual(['restore', 'verification']);
    expect(kinds.filter((kind) => kind === 'backup')).toHaveLength(1);

    const violations: string[] = [];
    for (const colorScheme of ['light', 'dark'] as const) {
      for (const viewport of [DESKTOP, PHONE]) {
        const { context, page: on } = await session.newPage(viewport, { colorScheme, bypassCSP: true });
        await logIn(on, web.url, admin);
        await on.locator('[data-testid=running-job][data-kind=verification]').waitFor();
        await on.locator('[data-testid=running-job] [data-testid=run-phase]').first().waitFor();
        if (viewport === DESKTOP) for (const v of await axeViolations(on)) violations.push(`${colorScheme}: ${v.id} (${v.help}) at ${v.targets.join(', ')}`);
        await screenshot(on, 'dashboard-running-now');
        await context.close();
      }
    }
    expect(violations).toEqual([]);
  });

  test('once let go, each run ends, its final log keeps every phase, and Running now empties', async () => {
    await sourceDb.query('COMMIT');
    letRestoreGo();
    stopHolding();
    const backup = await finished(`/api/backups/${heldBackup.id}`);
    expect(backup.status).toBe('completed');
    expect(backup.log).toMatch(/phase: dumping[\s\S]*phase: writing the manifest/);
    const restore = await finished(`/api/restores/${heldRestore.id}`);
    expect(restore.status).toBe('completed');
    expect(restore.log).toMatch(/phase: checking the artifact[\s\S]*phase: loading[\s\S]*phase: counting rows[\s\S]*phase: swapping/);
    const verification = await finished(`/api/verifications/${waitingVerification.id}`);
    expect(verification.status).toBe('completed');
    expect(verification.log).toMatch(/phase: checking the artifact[\s\S]*phase: counting rows[\s\S]*phase: dropping the scratch database/);
    await page.goto(web.url);
    await page.locator('[data-testid=running-jobs]', { hasText: 'Nothing is running.' }).waitFor();
    expect(await page.locator('[data-testid=running-job]').count()).toBe(0);
  });
});
