// The dashboard's first answer: is every source protected, and since when? One summary per source
// (its status and the rule behind it, its last successful backup, its next run, its last 30 runs),
// the recent failures nobody has fixed yet, and what an empty installation still lacks.
import { z } from 'zod';
import { backupTypes, runStatuses } from './common.js';
import { defineRoutes } from './route.js';

export const protectionStatuses = ['protected', 'at-risk', 'failing', 'unprotected'] as const;
export type ProtectionStatus = (typeof protectionStatuses)[number];

export const runDotSchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    status: z.enum(runStatuses),
    type: z.enum(backupTypes),
    createdAt: z.string(),
    completedAt: z.string().nullable(),
    sizeBytes: z.number().nullable(),
    durationMs: z.number().nullable(),
    deleted: z.boolean(),
  })
  .meta({ id: 'RunDot' });
export type RunDot = z.infer<typeof runDotSchema>;

const scheduleSummary = z.object({
  id: z.string().uuid(),
  name: z.string(),
  scheduleDescription: z.string(),
  timezone: z.string(),
  nextRunAt: z.string().nullable(),
  overdue: z.boolean(),
  active: z.boolean(),
});

export const sourceProtectionSchema = z
  .object({
    sourceId: z.string().uuid(),
    sourceName: z.string(),
    kind: z.string(),
    status: z.enum(protectionStatuses),
    rule: z.string().describe('why it has this status, in a sentence'),
    lastSuccess: z
      .object({ id: z.string().uuid(), name: z.string(), completedAt: z.string(), sizeBytes: z.number().nullable() })
      .nullable()
      .describe('its newest completed backup whose artifacts are kept'),
    nextRun: z
      .object({ at: z.string(), configurationId: z.string().uuid(), configurationName: z.string(), timezone: z.string() })
      .nullable()
      .describe('the soonest firing of its active schedules'),
    configurations: z.array(scheduleSummary),
    runs: z.array(runDotSchema).describe('its last 30 backups, oldest first'),
    recoveryWindow: z
      .object({ from: z.string(), to: z.string() })
      .nullable()
      .describe('point-in-time sources: the span any second of which can be restored (null until the source streams its WAL)'),
  })
  .meta({ id: 'SourceProtection' });
export type SourceProtection = z.infer<typeof sourceProtectionSchema>;

export const recentFailureSchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    sourceId: z.string().uuid().nullable(),
    sourceName: z.string(),
    configurationId: z.string().uuid().nullable(),
    configurationName: z.string().nullable(),
    errorMessage: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'RecentFailure' });
export type RecentFailure = z.infer<typeof recentFailureSchema>;

export const protectionSummarySchema = z
  .object({
    sources: z.array(sourceProtectionSchema),
    failures: z.array(recentFailureSchema).describe('failed backups of the last 7 days with no later success of the same configuration or source, newest first'),
    setup: z
      .object({ sources: z.number(), destinations: z.number(), schedules: z.number().describe('active configurations on a schedule'), backedUp: z.boolean().describe('a backup has completed') })
      .describe('what the installation has: an empty one is guided through each step'),
    refreshAt: z.string().nullable().describe('the soonest time a status changes by time alone (a schedule falls due)'),
    generatedAt: z.string(),
  })
  .meta({ id: 'ProtectionSummary' });
export type ProtectionSummary = z.infer<typeof protectionSummarySchema>;

/** What the live stream says changed; each page reads again what it shows of these. */
export const liveTopics = ['backups', 'restores', 'verifications', 'configurations', 'sources', 'destinations', 'notifications', 'users', 'workers'] as const;
export type LiveTopic = (typeof liveTopics)[number];

export const liveChangeSchema = z.object({ topics: z.array(z.enum(liveTopics)) }).meta({ id: 'LiveChange' });
export type LiveChange = z.infer<typeof liveChangeSchema>;

export const dashboardRoutes = defineRoutes({
  'events.stream': {
    method: 'get',
    path: '/api/events',
    summary: 'Server-sent events: a "change" event (data: {"topics": [...]}) whenever what the web UI shows changes, instead of polling',
    tag: 'dashboard',
    access: 'viewer',
    responses: {
      200: {
        description:
          'A text/event-stream: "ready" once, then "change" events with a LiveChange as data, and a comment every 25 s to keep the connection open. It ends when its token or session no longer authenticates (checked again every 10 s) or expires.',
        schema: z.string(),
        contentType: 'text/event-stream',
      },
      429: { description: 'The caller (a user or a token) has 10 streams open already (Retry-After).' },
      503: { description: 'The API process has 1000 streams open (Retry-After).' },
    },
  },
  'dashboard.protection': {
    method: 'get',
    path: '/api/dashboard/protection',
    summary: 'Per source: protected, at risk, failing or unprotected, since when, what runs next, its last 30 runs; recent failures',
    tag: 'dashboard',
    access: 'viewer',
    responses: { 200: { description: 'The summary.', schema: protectionSummarySchema } },
  },
});
