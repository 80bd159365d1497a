// What a notification says. The event body (stored on the delivery, sent as is to generic webhooks)
// holds a summary of the run and a link to the UI; Slack, Discord and email render it as text.
// Nothing secret is in it: names, statuses, sizes and the run's error sentence (scrubbed again).
import type { Backup, Restore, Verification } from '../../infra/db.js';
import { scrubSecrets } from '../../infra/logger.js';
import type { NotificationEvent } from '@coffre/contract';

export interface EventBody {
  /** The delivery's id: a receiver that sees it twice may drop the second. */
  id: string;
  event: NotificationEvent | 'test';
  occurredAt: string;
  /** One sentence saying what happened. */
  title: string;
  url: string | null;
  backup?: BackupSummary;
  restore?: RestoreSummary;
  verification?: VerificationSummary;
  configuration?: { id: string; name: string; lastCompletedAt: string | null; schedule: string };
  destination?: { id: string; name: string; path: string; usedPercent: number; freeBytes: number };
}

export interface BackupSummary {
  id: string;
  name: string;
  status: string;
  type: string;
  trigger: string;
  source: string;
  configurationId: string | null;
  sizeBytes: number | null;
  durationMs: number | null;
  errorMessage: string | null;
  startedAt: string | null;
  completedAt: string | null;
}

export interface RestoreSummary {
  id: string;
  status: string;
  backupId: string;
  backupName: string;
  targetDatabase: string | null;
  safetyBackupId: string | null;
  durationMs: number | null;
  errorMessage: string | null;
  completedAt: string | null;
}

export interface VerificationSummary {
  id: string;
  status: string;
  result: string | null;
  backupId: string;
  backupName: string;
  tablesExpected: number | null;
  tablesFound: number | null;
  errorMessage: string | null;
  completedAt: string | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const num = (v: bigint | number | null) => (v === null ? null : Number(v));
const sentence = (v: string | null) => (v ? scrubSecrets(v).slice(0, 1000) : null);

export function backupSummary(row: Backup): BackupSummary {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    type: row.type,
    trigger: row.trigger,
    source: row.sourceName,
    configurationId: row.configurationId,
    sizeBytes: num(row.sizeBytes),
    durationMs: row.durationMs,
    errorMessage: sentence(row.errorMessage),
    startedAt: iso(row.startedAt),
    completedAt: iso(row.completedAt),
  };
}

export function restoreSummary(row: Restore & { backup: { name: string } }): RestoreSummary {
  return {
    id: row.id,
    status: row.status,
    backupId: row.backupId,
    backupName: row.backup.name,
    targetDatabase: row.targetDatabase,
    safetyBackupId: row.safetyBackupId,
    durationMs: row.durationMs,
    errorMessage: sentence(row.errorMessage),
    completedAt: iso(row.completedAt),
  };
}

export function verificationSummary(row: Verification & { backup: { name: string } }): VerificationSummary {
  return {
    id: row.id,
    status: row.status,
    result: row.result,
    backupId: row.backupId,
    backupName: row.backup.name,
    tablesExpected: row.tablesExpected,
    tablesFound: row.tablesFound,
    errorMessage: sentence(row.errorMessage),
    completedAt: iso(row.completedAt),
  };
}

/** A link into the web UI, when PUBLIC_URL says where it is. */
export function uiLink(publicUrl: string | undefined, path: string): string | null {
  if (!publicUrl) return null;
  return `${publicUrl.replace(/\/+$/, '')}${path}`;
}

/** Lines of detail under the title, for text renderings. */
export function detailLines(body: EventBody): string[] {
  const lines: string[] = [];
  const add = (label: string, value: unknown) => {
    if (value !== null && value !== undefined && value !== '') lines.push(`${label}: ${value}`);
  };
  if (body.backup) {
    add('Backup', body.backup.name);
    add('Source', body.backup.source);
    add('Type', body.backup.type);
    add('Trigger', body.backup.trigger);
    add('Size', body.backup.sizeBytes === null ? null : formatBytes(body.backup.sizeBytes));
    add('Duration', body.backup.durationMs === null ? null : `${(body.backup.durationMs / 1000).toFixed(1)} s`);
    add('Error', body.backup.errorMessage);
  }
  if (body.restore) {
    add('Backup', body.restore.backupName);
    add('Target database', body.restore.targetDatabase);
    add('Error', body.restore.errorMessage);
  }
  if (body.verification) {
    add('Backup', body.verification.backupName);
    add('Tables', body.verification.tablesFound === null ? null : `${body.verification.tablesFound} found, ${body.verification.tablesExpected} recorded`);
    add('Error', body.verification.errorMessage);
  }
  if (body.configuration) {
    add('Schedule', body.configuration.schedule);
    add('Last successful backup', body.configuration.lastCompletedAt ?? 'never');
  }
  if (body.destination) {
    add('Path', body.destination.path);
    add('Free', formatBytes(body.destination.freeBytes));
  }
  add('When', body.occurredAt);
  add('Details', body.url);
  return lines;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** Whether the event reports something that went wrong (red), or something that went well (green). */
export function isBadNews(event: EventBody['event']): boolean {
  return event !== 'backup.completed' && event !== 'restore.completed' && event !== 'test';
}
