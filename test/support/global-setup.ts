// Runs once per test run: migrates a template database that every test copies (CREATE DATABASE …
// TEMPLATE is far faster than running migrations per test).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { adminQuery } from './pg.js';
import { databaseUrl } from './env.js';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  const dir = 'prisma/migrations';
  const hash = createHash('sha256');
  for (const name of readdirSync(dir).sort()) {
    if (name.endsWith('.toml') || name.endsWith('.prisma')) continue;
    hash.update(name).update(readFileSync(join(dir, name, 'migration.sql')));
  }
  const template = `coffre_tpl_${hash.digest('hex').slice(0, 12)}`;
  const { rowCount } = await adminQuery('SELECT 1 FROM pg_database WHERE datname = $1', [template]);
  if (!rowCount) {
    const building = `${template}_building_${process.pid}`;
    execFileSync(process.execPath, ['--experimental-wasm-modules', '--no-warnings=ExperimentalWarning', 'scripts/migrations.mjs', 'deploy'], {
      env: { ...process.env, DATABASE_URL: databaseUrl(building) },
      stdio: 'inherit',
    });
    // Renamed only when complete, so that a concurrent or interrupted run never copies half a schema.
    await adminQuery(`ALTER DATABASE "${building}" RENAME TO "${template}"`).catch(async (error: Error) => {
      await adminQuery(`DROP DATABASE IF EXISTS "${building}"`);
      if (!/already exists/.test(error.message)) throw error;
    });
    // Templates of older migration sets are of no further use, but another checkout of the project
    // may be testing with one right now: the ten newest are kept.
    const { rows } = await adminQuery<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE 'coffre\\_tpl\\_%' AND datname NOT LIKE '%\\_building\\_%' AND datname <> $1 ORDER BY oid DESC OFFSET 10",
      [template],
    );
    for (const row of rows) await adminQuery(`DROP DATABASE IF EXISTS "${row.datname}"`).catch(() => {});
  }
  project.provide('templateDatabase', template);
}
