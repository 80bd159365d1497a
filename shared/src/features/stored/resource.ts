// Sources and destinations are the same kind of resource: named rows, listed by name, whose
// credentials are sealed at rest and shown masked, and whose every change is audited. This module is
// that resource once; sources.ts and destinations.ts add what is theirs (what they hold, how they
// are masked and tested, what keeps one from being removed).
import { ConflictError, NotFoundError } from '../../infra/errors.js';
import { recordAudit } from '../audit/audit.js';
import type { Actor, AppContext } from '../../infra/context.js';
import { requireUuid } from '../../infra/validation.js';

interface NamedRow {
  id: string;
  name: string;
}

/** The Prisma table of the resource, as far as this module uses it. */
export interface ResourceTable<Row extends NamedRow> {
  findMany(args: { orderBy: { name: 'asc' } }): Promise<Row[]>;
  findUnique(args: { where: { id: string } | { name: string } }): Promise<Row | null>;
  create(args: { data: never }): Promise<Row>;
  update(args: { where: { id: string }; data: never }): Promise<Row>;
  delete(args: { where: { id: string } }): Promise<Row>;
}

export interface StoredResource<Row extends NamedRow> {
  list(ctx: AppContext): Promise<Row[]>;
  get(ctx: AppContext, id: string): Promise<Row>;
  /** Refuses a name another row has (409). */
  refuseTakenName(ctx: AppContext, name: string | undefined, current?: Row): Promise<void>;
  create(ctx: AppContext, actor: Actor, data: { name: string; [setting: string]: unknown }): Promise<Row>;
  update(ctx: AppContext, actor: Actor, before: Row, data: object, summary?: Record<string, unknown>): Promise<Row>;
  remove(ctx: AppContext, actor: Actor, row: Row): Promise<void>;
}

export function storedResource<Row extends NamedRow>(spec: {
  /** source, destination: the word of sentences and of audit actions. */
  noun: 'source' | 'destination';
  table: (ctx: AppContext) => ResourceTable<Row>;
  /** The row as the API shows it (credentials masked): what the audit log records too. */
  toApi: (row: Row) => unknown;
}): StoredResource<Row> {
  const { noun, table, toApi } = spec;
  const Noun = `${noun.charAt(0).toUpperCase()}${noun.slice(1)}`;
  const audit = (ctx: AppContext, actor: Actor, change: 'create' | 'update' | 'delete', id: string, summary: Record<string, unknown>) =>
    recordAudit(ctx.db, actor, { action: `${noun}.${change}`, targetType: noun, targetId: id, summary });
  const resource: StoredResource<Row> = {
    list: (ctx) => table(ctx).findMany({ orderBy: { name: 'asc' } }),
    async get(ctx, id) {
      const row = await table(ctx).findUnique({ where: { id: requireUuid(id, Noun) } });
      if (!row) throw new NotFoundError(`${Noun} ${id}`);
      return row;
    },
    async refuseTakenName(ctx, name, current) {
      if (!name || name === current?.name) return;
      if (await table(ctx).findUnique({ where: { name } })) throw new ConflictError(`A ${noun} named "${name}" already exists.`);
    },
    async create(ctx, actor, data) {
      await resource.refuseTakenName(ctx, data.name);
      const row = await table(ctx).create({ data: data as never });
      await audit(ctx, actor, 'create', row.id, { after: toApi(row) });
      return row;
    },
    async update(ctx, actor, before, data, summary = {}) {
      const row = await table(ctx).update({ where: { id: before.id }, data: data as never });
      await audit(ctx, actor, 'update', row.id, { before: toApi(before), after: toApi(row), ...summary });
      return row;
    },
    async remove(ctx, actor, row) {
      await table(ctx).delete({ where: { id: row.id } });
      await audit(ctx, actor, 'delete', row.id, { before: toApi(row) });
    },
  };
  return resource;
}
