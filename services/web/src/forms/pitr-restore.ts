// The "restore to a moment" form: the moment as the viewer's wall-clock time to the second (sent
// with the viewer's zone offset), the database as it was then, and where it goes (a new database on
// the source's server, or an existing PostgreSQL source's own database). What the API refuses is
// found by the contract's pitrRestoreRequestSchema; whether the moment is inside the window is the
// API's to say (the window moves while the form is open).
import { pitrRestoreRequestSchema, type PitrRestoreRequest, type SourceView as Source } from '@coffre/contract';
import { problemsOf, type Problems } from './problems';

export interface PitrRestoreChoice {
  /** "2026-11-30T06:12:07", the viewer's wall-clock time (an <input type=datetime-local step=1>). */
  moment: string;
  database: string;
  target: 'new' | 'source';
  /** target new: the database to create on the source's server. */
  newDatabase: string;
  /** target source: the source whose own database is replaced. */
  sourceId: string;
  confirm: string;
}

export type PitrRestoreProblems = Problems<Pick<PitrRestoreChoice, 'moment' | 'database' | 'newDatabase' | 'sourceId'>>;

/** The database a PostgreSQL source's URL names ("" when it names none). */
export function databaseOf(source: Pick<Source, 'url'> | undefined): string {
  if (!source) return '';
  try {
    return decodeURIComponent(new URL(source.url).pathname.slice(1));
  } catch {
    return '';
  }
}

/** The databases of a source one may restore: its own, and those its server scope names. */
export function databasesOf(source: Source): string[] {
  return [...new Set([databaseOf(source), ...(source.includeDatabases ?? [])].filter(Boolean))];
}

/** An ISO moment as the viewer's wall-clock time, to the second, for a datetime-local input. */
export function toLocalInput(iso: string): string {
  const d = new Date(iso);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}T${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** The viewer's wall-clock time with the viewer's offset at that time: "2026-11-30T06:12:07+01:00" ("" when not a time). */
export function momentWithZone(local: string): string {
  const text = /^\d{4}-\d\d-\d\dT\d\d:\d\d$/.test(local) ? `${local}:00` : local;
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/.test(text)) return '';
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) return '';
  const offset = -date.getTimezoneOffset();
  const two = (n: number) => String(Math.floor(n)).padStart(2, '0');
  return `${text}${offset < 0 ? '-' : '+'}${two(Math.abs(offset) / 60)}:${two(Math.abs(offset) % 60)}`;
}

/** The database the restore replaces or creates: what the confirmation must repeat. */
export function targetDatabaseOf(choice: PitrRestoreChoice, sources: Source[]): string {
  return choice.target === 'new' ? choice.newDatabase.trim() : databaseOf(sources.find((s) => s.id === choice.sourceId));
}

/** POST /api/sources/:id/pitr/restore. */
export function pitrRestoreRequest(choice: PitrRestoreChoice, sources: Source[]): PitrRestoreRequest {
  const targetDatabase = targetDatabaseOf(choice, sources);
  return {
    targetTime: momentWithZone(choice.moment),
    database: choice.database.trim(),
    ...(choice.target === 'source' ? { targetSourceId: choice.sourceId } : {}),
    targetDatabase,
    confirm: choice.confirm,
  };
}

export function pitrRestoreProblems(choice: PitrRestoreChoice, sources: Source[]): PitrRestoreProblems {
  const missing: PitrRestoreProblems = {};
  if (!momentWithZone(choice.moment)) missing.moment = 'Pick the moment, to the second.';
  if (choice.target === 'source' && !choice.sourceId) missing.sourceId = 'Pick the source to restore into.';
  if (choice.target === 'new' && !choice.newDatabase.trim()) missing.newDatabase = 'Name the database to restore into.';
  const body = { ...pitrRestoreRequest(choice, sources), confirm: '' };
  return { ...problemsOf(pitrRestoreRequestSchema, body, (path) => fieldOf(path, choice)), ...missing };
}

export function fieldOf(path: string, choice: PitrRestoreChoice): keyof PitrRestoreProblems | null {
  if (path === 'targetTime') return 'moment';
  if (path === 'database') return 'database';
  if (path === 'targetSourceId') return 'sourceId';
  if (path === 'targetDatabase') return choice.target === 'new' ? 'newDatabase' : 'sourceId';
  return null;
}
