// Point-in-time recovery: a source's PITR settings and requirements, its recovery window (from when
// to when any second can be restored, and where the stored WAL breaks), and a restore of one database
// as it was at a moment.
import { z } from 'zod';
import { idParams, uuidOf } from './common.js';
import { defineRoutes } from './route.js';
import { creatableDatabaseName, restoreSchema } from './runs.js';

export const pitrRequirementSchema = z.object({
  name: z.enum(['connection', 'wal_level', 'replication_role', 'stream_progress', 'wal_senders', 'replication_slots', 'pg_hba', 'tools']),
  ok: z.boolean(),
  message: z.string().describe('what is so, and when not met, what to change'),
});

export const pitrCheckSchema = z
  .object({ ok: z.boolean(), serverVersion: z.string().optional(), major: z.number().optional(), requirements: z.array(pitrRequirementSchema) })
  .meta({ id: 'PitrCheck' });

export const recoveryWindowSchema = z
  .object({
    earliest: z.string().nullable(),
    latest: z.string().nullable(),
    spans: z.array(
      z.object({
        from: z.string(),
        to: z.string(),
        baseBackups: z.array(z.object({ id: z.string().uuid(), name: z.string(), completedAt: z.string() })),
      }),
    ),
    gaps: z.array(
      z.object({
        timeline: z.number(),
        fromLsn: z.string(),
        toLsn: z.string().nullable(),
        file: z.string(),
        reason: z.enum(['missing', 'damaged']),
        lastReachable: z.string().nullable().describe('the last moment a restore can reach before the break'),
      }),
    ),
    divergent: z
      .array(
        z.object({
          timeline: z.number(),
          fromLsn: z.string().describe('where the newer timeline branched off'),
          toLsn: z.string().describe('where the stored WAL of this timeline ends'),
          newTimeline: z.number(),
        }),
      )
      .describe(
        'WAL of a timeline stored past where a newer timeline branched off from it: its server kept taking writes after another was promoted (a split brain). Restores follow the newer timeline and never replay it.',
      ),
    walFiles: z.number(),
    walBytes: z.number(),
  })
  .meta({ id: 'RecoveryWindow' });

export const pitrStateSchema = z
  .object({
    sourceId: z.string().uuid(),
    source: z.string(),
    enabled: z.boolean(),
    slot: z.string().nullable(),
    lastWal: z.object({ name: z.string(), kind: z.string(), endLsn: z.string(), receivedAt: z.string() }).nullable(),
    streamError: z
      .object({ message: z.string().describe('a sentence saying what failed and what to change'), at: z.string() })
      .nullable()
      .describe(
        'why the WAL stream last failed, and when (a server refused for another history, a refused password, a connection refused …): it is retried; null once it streams again, or when it never failed',
      ),
    window: recoveryWindowSchema,
  })
  .meta({ id: 'PitrState' });
export type PitrStateView = z.infer<typeof pitrStateSchema>;

export const pitrSettingsSchema = z.object({ enabled: z.boolean() }).strict().meta({ id: 'PitrSettings' });

export const pitrStateQuerySchema = z.object({
  /** Look up every stored WAL object (present, same size): a deleted or truncated one shows as a break. */
  checkStorage: z.enum(['true', 'false']).optional(),
});

export const pitrRestoreRequestSchema = z
  .object({
    targetTime: z.string().datetime({ offset: true, error: 'must be a date and time with its zone, e.g. 2026-01-31T17:00:00+01:00' }),
    database: z.string().min(1).max(63).describe('the database of the source to restore, as it was then'),
    targetSourceId: uuidOf().optional().describe('the server to restore into (default: the source itself)'),
    targetDatabase: z.string().regex(creatableDatabaseName, 'must be 1–63 letters, digits, "_" or "-", starting with a letter or "_"').optional(),
    confirm: z.string().max(300).describe("the target database's name, exactly"),
  })
  .strict()
  .meta({ id: 'PitrRestoreRequest' });
export type PitrRestoreRequest = z.infer<typeof pitrRestoreRequestSchema>;

const sourceId = idParams('Source');

export const pitrRoutes = defineRoutes({
  'pitr.get': {
    method: 'get',
    path: '/api/sources/:id/pitr',
    summary: "A source's point-in-time recovery: on or off, its slot, the newest stored WAL, why its stream last failed, its recovery window and breaks",
    tag: 'pitr',
    access: 'viewer',
    params: sourceId,
    query: pitrStateQuerySchema,
    responses: { 200: { description: 'The state.', schema: pitrStateSchema }, 404: { description: 'No such source.' } },
  },
  'pitr.check': {
    method: 'post',
    path: '/api/sources/:id/pitr/check',
    summary: 'Check every requirement of point-in-time recovery against the source, each with what to change',
    tag: 'pitr',
    access: 'operator',
    params: sourceId,
    responses: { 200: { description: 'The requirements.', schema: pitrCheckSchema }, 404: { description: 'No such source.' } },
  },
  'pitr.set': {
    method: 'put',
    path: '/api/sources/:id/pitr',
    summary: 'Turn point-in-time recovery on (requirements met: slot created, WAL streamed) or off (stream stopped, slot dropped)',
    tag: 'pitr',
    access: 'admin',
    params: sourceId,
    body: pitrSettingsSchema,
    responses: { 200: { description: 'The state.', schema: pitrStateSchema }, 400: { description: 'A requirement is not met (each one named).' }, 404: { description: 'No such source.' } },
  },
  'pitr.restore': {
    method: 'post',
    path: '/api/sources/:id/pitr/restore',
    summary: 'Restore one database as it was at a moment (confirm must equal the target database), through a private recovery instance',
    tag: 'pitr',
    access: 'admin',
    location: '/api/restores/:id',
    params: sourceId,
    body: pitrRestoreRequestSchema,
    responses: {
      202: { description: 'The restore, pending.', schema: restoreSchema },
      404: { description: 'No such source.' },
      409: { description: 'The moment is outside the recovery window or past a break in the stored WAL (the answer names the last reachable moment).' },
    },
  },
});
