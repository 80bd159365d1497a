// `coffre restore` with no backup named, on a real terminal (tmux): the wizard lists recent
// completed backups, shows what will be overwritten, asks for the backup's name, and restores.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, withClient } from '../../../test/support/pg.js';
import { createRichDatabase, dataChecksums } from '../../../test/support/fixtures.js';
import { createSource, onFailpoint, systemActor } from '@coffre/shared';
import { createTestStack, type TestStack } from '../../../test/support/stack.js';
import { listen, privateHome, removePrivateHomes, runCli, type ListeningApi } from './support/cli.js';
import { closeTerminals, openTerminal } from './support/terminal.js';

let stack: TestStack;
let api: ListeningApi;
let source: { name: string; url: string };
let env: Record<string, string>;
const dropAfter: string[] = [];

beforeAll(async () => {
  source = await createDatabase('coffre_wizard_src');
  await createRichDatabase(source.url);
  stack = await createTestStack({ sourceUrl: source.url });
  api = await listen(stack);
  env = { COFFRE_URL: api.url, COFFRE_TOKEN: stack.adminToken, COFFRE_POLL_MS: '200', HOME: privateHome() };
  stack.startWorkers();
  // The wizard lists the newest first: "wizard-pick" is second, so picking it takes a key press.
  for (const name of ['wizard-pick', 'wizard-newest']) {
    const result = await runCli(['backup', 'create', '--name', name, '--wait'], { env });
    expect(result.code, result.stderr).toBe(0);
  }
});

afterAll(async () => {
  removePrivateHomes();
  closeTerminals();
  for (const database of dropAfter) await withClient(source.url, (c) => c.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`));
  await api?.close();
  await stack?.close();
});

function targetUrl(database: string): string {
  const url = new URL(source.url);
  url.pathname = `/${database}`;
  return url.toString();
}

async function walkWizardTo(target: string) {
  const terminal = openTerminal(['restore'], env);
  const list = await terminal.waitFor('Which backup do you want to restore?');
  expect(list).toMatch(/wizard-newest[\s\S]*wizard-pick/);
  terminal.press('Down');
  await terminal.waitFor(/❯ wizard-pick/);
  terminal.press('Enter');
  await terminal.waitFor(`Restore into which database on default?`);
  terminal.type(target);
  terminal.press('Enter');
  const summary = await terminal.waitFor("Type the backup's name (wizard-pick) to restore it:");
  return { terminal, summary };
}

describe('the restore wizard', () => {
  it('picks a backup, shows the target and that the replaced database is kept, takes the name, and completes the restore', async () => {
    const target = `coffre_wizard_done_${Date.now()}`;
    dropAfter.push(target);
    const { terminal, summary } = await walkWizardTo(target);
    expect(summary).toContain(`Target:   database "${target}" on source default`);
    expect(summary).toContain('is loaded beside it and swapped in; the replaced database is kept');
    terminal.type('wizard-pick');
    terminal.press('Enter');
    expect(await terminal.exitCode()).toBe(0);
    // On a terminal, progress is a live bar (the restore reads a backup of known size).
    expect(terminal.screen()).toMatch(/restore of "wizard-pick" completed \[█+\] 100%/);
    expect(terminal.screen()).toMatch(new RegExp(`Restored "wizard-pick" into database ${target}`));
    const restore = await stack.ctx.db.restore.findFirstOrThrow({ where: { targetDatabase: target }, include: { backup: true } });
    expect(restore.status).toBe('completed');
    expect(restore.backup.name).toBe('wizard-pick');
    expect(await dataChecksums(targetUrl(target))).toEqual(await dataChecksums(source.url));
  });

  it('a name that does not match refuses the restore: exit 5, nothing queued, no database created', async () => {
    const target = `coffre_wizard_refused_${Date.now()}`;
    dropAfter.push(target);
    const before = await stack.ctx.db.restore.count();
    const { terminal } = await walkWizardTo(target);
    terminal.type('wizard-pic');
    terminal.press('Enter');
    expect(await terminal.exitCode()).toBe(5);
    expect(terminal.screen()).toContain('does not match "wizard-pick": nothing was restored');
    expect(await stack.ctx.db.restore.count()).toBe(before);
    const { rows } = await withClient(source.url, (c) => c.query('SELECT 1 FROM pg_database WHERE datname = $1', [target]));
    expect(rows).toHaveLength(0);
  });
});

describe('other commands on a terminal', () => {
  it('backup create --wait draws a live status line on a terminal, then the summary', async () => {
    const terminal = openTerminal(['backup', 'create', '--name', 'tty-backup', '--wait'], env);
    expect(await terminal.exitCode()).toBe(0);
    const screen = terminal.screen();
    expect(screen).toMatch(/backup "tty-backup" completed\s+\d\d:\d\d/);
    expect(screen).toMatch(/Backup "tty-backup" completed: [\d.]+ KB in/);
  });

  it('while a larger dump runs, the live line shows the bytes written so far and the rate', async () => {
    const big = await createDatabase('coffre_wizard_big');
    await withClient(big.url, (c) =>
      c.query("CREATE TABLE big AS SELECT g, md5(random()::text) || md5(random()::text) || md5(random()::text) AS filler FROM generate_series(1, 1500000) g"),
    );
    await createSource(stack.ctx, { name: 'big', url: big.url }, systemActor);
    // The run is held once its bytes are written (at most 30 s), so that the live line is seen however
    // fast this machine dumps: the test is about what the line says, not about winning a race.
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const stop = onFailpoint('backup.before-complete', () => Promise.race([held, new Promise<void>((resolve) => setTimeout(resolve, 30_000))]));
    try {
      const terminal = openTerminal(['backup', 'create', '--source', 'big', '--name', 'tty-big', '--wait'], env);
      await terminal.waitFor(/backup "tty-big" running\s+[\d.]+ (KB|MB), [\d.]+ (KB|MB)\/s\s+\d\d:\d\d/, 90_000);
      release();
      expect(await terminal.exitCode()).toBe(0);
      expect(terminal.screen()).toMatch(/Backup "tty-big" completed: [\d.]+ MB in/);
    } finally {
      release();
      stop();
    }
  });

  it('backup delete asks first: "n" keeps the backup, "y" deletes its artifacts', async () => {
    const created = await runCli(['backup', 'create', '--name', 'tty-delete', '--wait', '--json'], { env });
    const id = JSON.parse(created.stdout).id as string;
    const keep = openTerminal(['backup', 'delete', id], env);
    await keep.waitFor('Delete the artifacts of backup "tty-delete"');
    keep.type('n');
    keep.press('Enter');
    expect(await keep.exitCode()).toBe(5);
    expect((await stack.ctx.db.backup.findUniqueOrThrow({ where: { id } })).deletedAt).toBeNull();
    const remove = openTerminal(['backup', 'delete', id], env);
    await remove.waitFor('Delete the artifacts of backup "tty-delete"');
    remove.type('y');
    remove.press('Enter');
    expect(await remove.exitCode()).toBe(0);
    expect((await stack.ctx.db.backup.findUniqueOrThrow({ where: { id } })).deletedAt).not.toBeNull();
  });
});
