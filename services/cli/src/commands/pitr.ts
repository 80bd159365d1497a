// coffre pitr status|check|enable|disable|restore: point-in-time recovery of a source. A restore to a
// moment goes through the API and a worker; --to-directory recovers the whole cluster on this
// machine, into a directory ready to start (it reads the same environment as coffre's workers).
import { Command } from 'commander';
import type { PitrStateView } from '@coffre/contract';
import { confirmAction, connect } from '../cli-context.js';
import { CliError, ExitCode } from '../exit-codes.js';
import { fields, humanBytes, humanDuration, printJson, printLine } from '../output.js';
import { watchRun } from '../progress.js';
import { isUuid, resolveSource } from '../resolve.js';
import { openLocalCoffre } from '../local.js';

interface RestoreFlags {
  time: string;
  database?: string;
  targetSource?: string;
  targetDatabase?: string;
  toDirectory?: string;
  yes?: boolean;
  wait: boolean;
  json?: boolean;
}

export function pitrCommand(): Command {
  const pitr = new Command('pitr').description('point-in-time recovery: stream a source\'s WAL, see its recovery window, restore any second');

  pitr
    .command('status')
    .description('on or off, the newest stored WAL, the recovery window and any break in it')
    .argument('<source>', 'name or id')
    .option('--check-storage', 'look up every stored WAL object: a deleted or truncated one shows as a break')
    .option('--json', 'print it as JSON')
    .action(async (nameOrId: string, options: { checkStorage?: boolean; json?: boolean }, command: Command) => {
      const api = await connect(command);
      const source = await resolveSource(api, nameOrId);
      const state = await api.call('pitr.get', { params: { id: source.id }, query: { checkStorage: options.checkStorage ? 'true' : undefined } });
      if (options.json) return printJson(state);
      printLine(describeState(state));
    });

  pitr
    .command('check')
    .description('check every requirement of point-in-time recovery against the source, with what to change')
    .argument('<source>', 'name or id')
    .option('--json', 'print it as JSON')
    .action(async (nameOrId: string, options: { json?: boolean }, command: Command) => {
      const api = await connect(command);
      const source = await resolveSource(api, nameOrId);
      const check = await api.call('pitr.check', { params: { id: source.id } });
      if (options.json) return printJson(check);
      for (const r of check.requirements) printLine(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.message}`);
      if (!check.ok) throw new CliError(`Point-in-time recovery cannot run on "${source.name}" yet.`, ExitCode.failure);
    });

  for (const enabled of [true, false]) {
    pitr
      .command(enabled ? 'enable' : 'disable')
      .description(enabled ? 'turn point-in-time recovery on: create the slot, stream the WAL' : 'turn it off: stop the stream, drop the slot (stored WAL stays)')
      .argument('<source>', 'name or id')
      .option('--json', 'print the state as JSON')
      .action(async (nameOrId: string, options: { json?: boolean }, command: Command) => {
        const api = await connect(command);
        const source = await resolveSource(api, nameOrId);
        const state = await api.call('pitr.set', { params: { id: source.id }, body: { enabled } });
        if (options.json) return printJson(state);
        printLine(enabled ? `Point-in-time recovery is on for "${source.name}" (slot ${state.slot}). Take a base backup: coffre backup create --source ${source.name} --type physical` : `Point-in-time recovery is off for "${source.name}".`);
      });
  }

  pitr
    .command('restore')
    .description('restore one database as it was at a moment (or, with --to-directory, the whole cluster on this machine)')
    .argument('<source>', 'name or id')
    .requiredOption('-t, --time <moment>', 'the moment, to the second, with its zone: 2026-01-31T17:00:00+01:00')
    .option('--database <database>', 'the database of the source to restore (default: the source\'s own)')
    .option('-s, --target-source <source>', 'restore onto this source (default: the source itself)')
    .option('-d, --target-database <database>', 'restore into this database (default: --database); created when missing')
    .option('--to-directory <dir>', 'recover the whole cluster into this empty directory, ready to start (runs here, not in a worker)')
    .option('-y, --yes', 'confirm without asking')
    .option('--no-wait', 'return once the restore is queued')
    .option('--json', 'print the restore as JSON')
    .action(async (nameOrId: string, options: RestoreFlags, command: Command) => {
      if (!/(Z|[+-]\d\d:\d\d)$/.test(options.time)) throw new CliError('--time needs its zone: 2026-01-31T17:00:00+01:00 or …Z.', ExitCode.usage);
      if (options.toDirectory) return restoreToDirectory(nameOrId, options);
      const api = await connect(command);
      const source = await resolveSource(api, nameOrId);
      const database = options.database ?? new URL(source.url).pathname.slice(1);
      const targetSource = options.targetSource ? await resolveSource(api, options.targetSource) : source;
      const targetDatabase = options.targetDatabase ?? database;
      await confirmAction(`Replace database "${targetDatabase}" on ${targetSource.name} with "${database}" as it was at ${options.time}?`, { yes: options.yes, refusal: 'The restore was not confirmed.' });
      const restore = await api.call('pitr.restore', {
        params: { id: source.id },
        body: { targetTime: options.time, database, targetDatabase, ...(options.targetSource ? { targetSourceId: targetSource.id } : {}), confirm: targetDatabase },
      });
      if (!options.wait) return options.json ? printJson(restore) : printLine(`Restore ${restore.id} queued; follow it with: coffre restore status ${restore.id}`);
      const done = await watchRun({ label: `restore of "${database}" at ${options.time}`, poll: () => api.call('restores.get', { params: { id: restore.id } }), followUp: `Follow it with: coffre restore status ${restore.id}` });
      if (options.json) printJson(done);
      if (done.status === 'failed') throw new CliError(`The restore to ${options.time} failed: ${done.errorMessage ?? 'no reason recorded'}`);
      if (!options.json) printLine(`Restored "${database}" as it was at ${options.time} into "${targetDatabase}" in ${humanDuration(done.durationMs)}.`);
    });
  return pitr;
}

async function restoreToDirectory(nameOrId: string, options: RestoreFlags): Promise<void> {
  const local = await openLocalCoffre();
  try {
    const shared = await import('@coffre/shared');
    const source = await local.ctx.db.source.findFirst({ where: isUuid(nameOrId) ? { id: nameOrId } : { name: nameOrId } });
    if (!source) throw new CliError(`There is no source "${nameOrId}".`, ExitCode.notFound);
    const done = await shared.recoverToDirectory(local.ctx, source.id, new Date(options.time), options.toDirectory!);
    if (options.json) return printJson(done);
    printLine(`Recovered "${source.name}" as it was at ${options.time} into ${done.dataDir} from base backup "${done.baseBackup}" (${done.walFiles} WAL files; fetch ${humanDuration(done.fetchMs)}, replay ${humanDuration(done.replayMs)}).`);
    printLine(`Start it with: pg_ctl -D ${done.dataDir} start (as the user who owns it).`);
  } finally {
    await local.close();
  }
}

function describeState(state: PitrStateView): string {
  const w = state.window;
  const rows: [string, string | number | null | undefined][] = [
    ['Source', state.source],
    ['Point-in-time recovery', state.enabled ? `on (slot ${state.slot})` : 'off'],
    // Only while it fails: the sentence says what to change.
    ['Stream failed', state.streamError ? `at ${state.streamError.at}: ${state.streamError.message}` : undefined],
    ['Newest WAL', state.lastWal ? `${state.lastWal.name} (${state.lastWal.kind}) up to ${state.lastWal.endLsn}, received ${state.lastWal.receivedAt}` : 'none stored'],
    ['Recovery window', w.earliest ? `${w.earliest} → ${w.latest}` : 'none yet (a completed physical backup and the WAL after it are needed)'],
    ['Stored WAL', `${w.walFiles} files, ${humanBytes(w.walBytes)}`],
  ];
  for (const gap of w.gaps) rows.push(['Break', `${gap.file} ${gap.reason} at ${gap.fromLsn}${gap.lastReachable ? `: restores reach up to ${gap.lastReachable}` : ''}`]);
  for (const d of w.divergent) rows.push(['Divergent', `timeline ${d.timeline} from ${d.fromLsn} to ${d.toLsn}: written after timeline ${d.newTimeline} branched off (split brain), never restored`]);
  return fields(rows);
}
