// coffre import FILE: uploads a dump made elsewhere (custom, tar or plain SQL; gzip, zstd or age
// wrapped or not); the API checks it, stores it and answers with the backup it became.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Transform } from 'node:stream';
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { connect } from '../cli-context.js';
import { CliError } from '../exit-codes.js';
import { humanBytes, printJson, printLine } from '../output.js';
import { resolveSource } from '../resolve.js';

export function importCommand(): Command {
  return new Command('import')
    .description('import a dump made elsewhere (pg_dump custom, tar or plain SQL, optionally .gz/.zst/.age): it is checked, stored and becomes a backup')
    .argument('<file>', 'the dump file')
    .option('-n, --name <name>', "the backup's name (default: <file name>-import-full-<timestamp>)")
    .option('-s, --source <source>', 'the source it belongs to (name or id): verifications restore it on that server')
    .option('--json', 'print the backup as JSON')
    .action(async (file: string, options: { name?: string; source?: string; json?: boolean }, command: Command) => {
      const info = await stat(file).catch(() => null);
      if (!info?.isFile()) throw new CliError(`${file} is not a file that can be read.`);
      const api = await connect(command);
      const query: Record<string, string> = { filename: basename(file) };
      if (options.name) query.name = options.name;
      if (options.source) query.sourceId = (await resolveSource(api, options.source)).id;
      const bar = !options.json && process.stderr.isTTY ? new cliProgress.SingleBar({ format: 'uploading [{bar}] {percentage}% {value}/{total} bytes', stream: process.stderr }) : null;
      bar?.start(info.size, 0);
      let sent = 0;
      const counted = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          sent += chunk.length;
          bar?.update(sent);
          callback(null, chunk);
        },
      });
      try {
        const backup = await api.upload('imports.create', { query }, createReadStream(file).pipe(counted), info.size);
        bar?.stop();
        if (options.json) printJson(backup);
        else printLine(`Imported ${basename(file)} as backup "${backup.name}" (${backup.id}): a ${backup.dumpFormat ?? 'custom'}-format dump, ${humanBytes(backup.sizeBytes)} stored, sha256 ${backup.checksumSha256}.`);
      } finally {
        bar?.stop();
      }
    });
}
