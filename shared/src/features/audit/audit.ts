// The audit log: who changed what, when, from where. Summaries pass through `withoutSecrets`, so that
// no password, token or connection URL is ever stored here.
import type { AuditQuery } from '@coffre/contract';
import type { Db, Prisma } from '../../infra/db.js';
import type { Actor } from '../../infra/context.js';
import { likeLiteral } from '../../infra/validation.js';

export interface AuditEntry {
  action: string;
  targetType?: string;
  targetId?: string | null;
  outcome?: 'success' | 'failure';
  summary?: Record<string, unknown>;
}

export async function recordAudit(db: Db, actor: Actor, entry: AuditEntry): Promise<void> {
  await db.auditEvent.create({ data: auditEventData(actor, entry) });
}

/** The row of an audit event, its summary without secrets. */
export function auditEventData(actor: Actor, entry: AuditEntry) {
  return {
    actorType: actor.type,
    actorId: actor.id,
    actorName: actor.name,
    action: entry.action,
    targetType: entry.targetType ?? null,
    targetId: entry.targetId ?? null,
    outcome: entry.outcome ?? 'success',
    ip: actor.ip ?? null,
    userAgent: actor.userAgent?.slice(0, 300) ?? null,
    summary: entry.summary ? (withoutSecrets(entry.summary) as object) : undefined,
  };
}

const SECRET_KEY = /pass(word)?|secret|token|url|credential|authorization|cookie|key$/i;

/** A copy of a value with every secret-looking field replaced, at any depth. */
export function withoutSecrets(value: unknown, depth = 0): unknown {
  if (depth > 6) return '[…]';
  if (Array.isArray(value)) return value.map((v) => withoutSecrets(v, depth + 1));
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      out[key] = SECRET_KEY.test(key) && key !== 'urlMasked' ? '[redacted]' : withoutSecrets(v, depth + 1);
    }
    return out;
  }
  return value;
}

export async function listAudit(db: Db, f: AuditQuery) {
  const where: Prisma.AuditEventWhereInput = {
    ...(f.action ? { action: { startsWith: f.action } } : {}),
    ...(f.actor ? { actorName: { contains: likeLiteral(f.actor), mode: 'insensitive' } } : {}),
    ...(f.targetType ? { targetType: f.targetType } : {}),
    ...(f.targetId ? { targetId: f.targetId } : {}),
    ...(f.outcome ? { outcome: f.outcome } : {}),
    ...(f.from || f.to ? { at: { ...(f.from ? { gte: new Date(f.from) } : {}), ...(f.to ? { lte: new Date(f.to) } : {}) } } : {}),
  };
  const [rows, total] = await Promise.all([
    db.auditEvent.findMany({ where, orderBy: [{ at: 'desc' }, { id: 'desc' }], skip: (f.page - 1) * f.pageSize, take: f.pageSize }),
    db.auditEvent.count({ where }),
  ]);
  return {
    items: rows.map((r) => ({
      id: r.id,
      at: r.at.toISOString(),
      actorType: r.actorType,
      actorName: r.actorName,
      action: r.action,
      targetType: r.targetType,
      targetId: r.targetId,
      outcome: r.outcome,
      ip: r.ip,
      summary: r.summary,
    })),
    total,
    page: f.page,
    pageSize: f.pageSize,
  };
}
