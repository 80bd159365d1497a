// Prisma migrations without Prisma's downloaded engine binary.
//
// The Prisma 7 CLI downloads its native schema engine at first use, which fails on machines
// without access to binaries.prisma.sh. The same engine ships on npm as WebAssembly
// (@prisma/schema-engine-wasm) and drives the database through the pg driver adapter, so
// `deploy` applies prisma/migrations exactly as `prisma migrate deploy` would (same
// _prisma_migrations table), and `diff` writes a new migration from schema.prisma.
//
//   node --experimental-wasm-modules scripts/migrations.mjs deploy
//   node --experimental-wasm-modules scripts/migrations.mjs diff <migration_name>
import { readFileSync, readdirSync, mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { SchemaEngine } from '@prisma/schema-engine-wasm';
import { PrismaPg } from '@prisma/adapter-pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';

const schemaPath = 'prisma/schema.prisma';
const migrationsDir = resolve('prisma/migrations');
const filters = { externalTables: [], externalEnums: [] };
/** The datamodel the newest migration was written from. */
const snapshotPath = join(migrationsDir, 'schema.snapshot.prisma');

const [command, name] = process.argv.slice(2);
const url = process.env.DATABASE_URL;
if (!url) fail('DATABASE_URL is not set: give the URL of coffre\'s own PostgreSQL database.');

try {
  if (command === 'deploy') await deploy();
  else if (command === 'diff' && name) await diff(name);
  else fail('usage: migrations.mjs deploy | diff <migration_name>', 2);
  process.exit(0);
} catch (error) {
  fail(`migration failed: ${error instanceof Error ? error.message : String(error)}`);
}

async function deploy() {
  await ensureDatabase(url);
  const engine = await openEngine();
  const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList: loadMigrations(), filters });
  console.log(
    appliedMigrationNames.length
      ? `applied ${appliedMigrationNames.length} migration(s): ${appliedMigrationNames.join(', ')}`
      : 'database schema is up to date',
  );
}

async function diff(migrationName) {
  // The diff runs between two datamodels, the one the last migration was written from and the
  // current one, so that it needs no shadow database.
  const datamodel = readFileSync(schemaPath, 'utf8');
  const previous = existsSync(snapshotPath) ? readFileSync(snapshotPath, 'utf8') : null;
  const engine = await openEngine();
  const { stdout } = await engine.diff({
    from: previous ? { tag: 'schemaDatamodel', files: [{ path: schemaPath, content: previous }] } : { tag: 'empty' },
    to: { tag: 'schemaDatamodel', files: [{ path: schemaPath, content: datamodel }] },
    script: true,
    exitCode: null,
    filters,
  });
  const sql = stdout ?? '';
  if (!sql.trim() || sql.includes('This is an empty migration')) {
    console.log('schema.prisma and the migrations agree: nothing to write');
    return;
  }
  const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
  const dir = join(migrationsDir, `${stamp}_${migrationName}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'migration.sql'), sql);
  writeFileSync(snapshotPath, datamodel);
  console.log(`wrote ${dir}/migration.sql`);
}

function loadMigrations() {
  const lockPath = join(migrationsDir, 'migration_lock.toml');
  const directories = existsSync(migrationsDir)
    ? readdirSync(migrationsDir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()
    : [];
  return {
    baseDir: migrationsDir,
    lockfile: { path: 'migration_lock.toml', content: existsSync(lockPath) ? readFileSync(lockPath, 'utf8') : null },
    shadowDbInitScript: '',
    migrationDirectories: directories.map((dir) => ({
      path: dir,
      migrationFile: {
        path: 'migration.sql',
        content: { tag: 'ok', value: readFileSync(join(migrationsDir, dir, 'migration.sql'), 'utf8') },
      },
    })),
  };
}

async function openEngine() {
  const factory = bindMigrationAwareSqlAdapterFactory(new PrismaPg({ connectionString: url }));
  const datamodel = readFileSync(schemaPath, 'utf8');
  return SchemaEngine.new({ datamodels: [[schemaPath, datamodel]] }, () => {}, factory);
}

/** Creates the target database when it does not exist yet, as `prisma migrate deploy` does. */
async function ensureDatabase(databaseUrl) {
  const target = new URL(databaseUrl);
  const database = decodeURIComponent(target.pathname.slice(1));
  if (!database) fail('DATABASE_URL names no database.');
  await withMaintenanceClient(databaseUrl, async (client) => {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
      console.log(`created database ${database}`);
    }
  });
}

/** Runs `work` on a connection to the server's `postgres` database. */
async function withMaintenanceClient(databaseUrl, work) {
  const maintenance = new URL(databaseUrl);
  maintenance.pathname = '/postgres';
  const client = new pg.Client({ connectionString: maintenance.toString() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function fail(message, code = 1) {
  console.error(message);
  process.exit(code);
}
