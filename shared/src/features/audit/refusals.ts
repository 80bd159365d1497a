// Refusals in the audit log: requests refused for their role or a missing CSRF token, wrong typed
// confirmations, restores into a database that may not be overwritten. Whoever is refused controls how
// often, so the rows are bounded: one row per actor, address, action and reason per minute, whose
// summary counts the repeats (count, lastAt); and at most REFUSALS_PER_WINDOW new rows a minute in a
// process, however many actors and addresses take turns. Failed logins are recorded one by one, as
// before: the login rate limit already bounds them.
import type { Db } from '../../infra/db.js';
import { auditEventData, type AuditEntry } from './audit.js';
import type { Actor } from '../../infra/context.js';

export const REFUSAL_WINDOW_MS = 60_000;
export const REFUSALS_PER_WINDOW = 100;

export interface RefusalEntry extends Omit<AuditEntry, 'outcome'> {
  /** Why it was refused, in a word (role, csrf, wrong-confirmation, protected-database). */
  reason: string;
}

/** recorded: a new row; counted: the repeat of a row of this minute; dropped: past this minute's bound. */
export type RefusalRecord = 'recorded' | 'counted' | 'dropped';

interface RefusalLog {
  /** The row of each actor/address/action/reason of the current window. */
  rows: Map<string, { id: Promise<string | null>; until: number }>;
  windowStart: number;
  created: number;
}

const logs = new WeakMap<Db, RefusalLog>();

export async function recordRefusal(db: Db, actor: Actor, entry: RefusalEntry): Promise<RefusalRecord> {
  const log = logOf(db);
  const now = Date.now();
  if (now - log.windowStart >= REFUSAL_WINDOW_MS) {
    log.windowStart = now;
    log.created = 0;
    for (const [key, row] of log.rows) if (row.until <= now) log.rows.delete(key);
  }
  const key = JSON.stringify([actor.type, actor.id, actor.name, actor.ip ?? null, entry.action, entry.reason]);
  const open = log.rows.get(key);
  const openId = open && open.until > now ? await open.id : null;
  if (openId) {
    // One statement, so that concurrent repeats (and other API processes) all count.
    await db.$executeRaw`UPDATE "AuditEvent" SET summary = COALESCE(summary, '{}'::jsonb) || jsonb_build_object('count', COALESCE((summary->>'count')::int, 1) + 1, 'lastAt', now()) WHERE id = ${openId}::uuid`;
    return 'counted';
  }
  if (log.created >= REFUSALS_PER_WINDOW) return 'dropped';
  log.created += 1;
  const created = db.auditEvent
    .create({ data: auditEventData(actor, { ...entry, outcome: 'failure', summary: { ...entry.summary, reason: entry.reason, count: 1 } }), select: { id: true } })
    .then((row) => row.id);
  const row = { id: created.catch(() => null), until: now + REFUSAL_WINDOW_MS };
  log.rows.set(key, row);
  try {
    await created;
  } catch (error) {
    if (log.rows.get(key) === row) log.rows.delete(key);
    throw error;
  }
  return 'recorded';
}

function logOf(db: Db): RefusalLog {
  let log = logs.get(db);
  if (!log) {
    log = { rows: new Map(), windowStart: Date.now(), created: 0 };
    logs.set(db, log);
  }
  return log;
}
