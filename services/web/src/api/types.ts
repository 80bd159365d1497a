// The shapes the UI reads from the API (see GET /api/openapi.json; only the fields it uses).
export type Role = 'admin' | 'operator' | 'viewer';
export type RunStatus = 'pending' | 'running' | 'completed' | 'failed';
export type BackupType = 'full' | 'schema' | 'data';

export interface Actor {
  name: string;
  role: Role;
  type: string;
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}

export interface Artifact {
  kind: string;
  destination: string;
  key: string;
  sizeBytes: number;
  checksumSha256: string;
}

export interface Backup {
  id: string;
  name: string;
  type: BackupType;
  status: RunStatus;
  trigger: string;
  sourceId: string | null;
  sourceName: string;
  configurationId: string | null;
  compression: string;
  encrypted: boolean;
  sizeBytes: number | null;
  checksumSha256: string | null;
  durationMs: number | null;
  progressBytes: number;
  tablesCount: number | null;
  recordsCount: number | null;
  filesCount: number | null;
  objectsCount?: number | null;
  serverVersion: string | null;
  pgDumpVersion: string | null;
  errorMessage: string | null;
  attempts?: number;
  startedAt: string | null;
  completedAt: string | null;
  createdAt: string;
  deletedAt: string | null;
  artifacts?: Artifact[];
  lastVerification?: { id: string; status: string; result: string | null; completedAt: string | null } | null;
  log?: string | null;
}

export interface PeriodStats {
  total: number;
  completed: number;
  failed: number;
  sizeBytes: number;
}

export interface BackupStats {
  total: number;
  byStatus: Record<string, number>;
  byType: Record<string, number>;
  successRate: number | null;
  totalSizeBytes: number;
  averageDurationMs: number | null;
  last7Days: PeriodStats;
  previous7Days: PeriodStats;
  trendPercent: number | null;
  lastCompletedAt: string | null;
}

export type ScheduleKind = 'manual' | 'hourly' | 'daily' | 'weekly' | 'monthly' | 'cron';

export interface Schedule {
  kind: ScheduleKind;
  time?: string;
  weekday?: number;
  dayOfMonth?: number;
  cron?: string;
  timezone: string;
}

export interface Retention {
  keepLast?: number;
  maxAgeDays?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
}

export interface Configuration {
  id: string;
  name: string;
  sourceId: string;
  sourceName: string;
  type: BackupType;
  schedule: Schedule;
  scheduleDescription: string;
  nextRunAt: string | null;
  active: boolean;
  includePaths: string[];
  excludePatterns: string[];
  compression: 'zstd' | 'gzip' | 'none';
  compressionLevel: number | null;
  /** The configuration's own choice; null: as the installation. */
  encrypt: boolean | null;
  /** Whether its backups are encrypted now. */
  encrypted: boolean;
  retention: Retention;
  destinationIds: string[];
  verifySchedule: 'none' | 'daily' | 'weekly' | 'monthly';
  lastRunAt: string | null;
  overdue: boolean;
  lastCompletedAt: string | null;
  lastStatus: string | null;
}

export interface Source {
  id: string;
  name: string;
  kind: 'postgres' | 's3';
  url: string;
  createdAt: string;
}

/** GET /api/backups/daily: one day (UTC) of the dashboard charts. */
export interface BackupDay {
  date: string;
  completed: number;
  failed: number;
  pending: number;
  running: number;
  /** Bytes of completed backups whose artifacts were kept, at the end of the day. */
  storedBytes: number;
}

export interface Destination {
  id: string;
  name: string;
  kind: 'local' | 's3';
  isDefault: boolean;
  location: string;
  config: Record<string, unknown>;
  hasCredentials: boolean;
  createdAt: string;
  updatedAt?: string;
}

export interface Restore {
  id: string;
  backupId: string;
  backupName?: string;
  status: RunStatus;
  targetKind: string;
  targetSourceId: string | null;
  targetDatabase: string | null;
  createDatabase: boolean;
  safetyBackupId: string | null;
  progressBytes: number;
  durationMs: number | null;
  errorMessage: string | null;
  requestedBy: string | null;
  startedAt: string | null;
  completedAt: string | null;
  createdAt: string;
  /** GET /api/restores/:id only. */
  log?: string | null;
}

export interface Verification {
  id: string;
  backupId: string;
  backupName?: string;
  status: RunStatus;
  result: 'passed' | 'failed' | null;
  trigger: string;
  tablesExpected: number | null;
  tablesFound: number | null;
  recordsExpected: number | null;
  recordsFound: number | null;
  differences: { table: string; expected: number | null; found: number | null }[] | null;
  durationMs: number | null;
  errorMessage: string | null;
  createdAt: string;
  completedAt: string | null;
}

export interface AuditEvent {
  id: string;
  at: string;
  actorType: string;
  actorName: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: string;
  ip: string | null;
  summary: unknown;
}

/** GET /api/system: the backup directory, and per destination what it holds and how full its disk is. */
/** A worker whose heartbeat is current (GET /api/workers). */
export interface WorkerInfo {
  workerId: string;
  host: string;
  pid: number;
  queues: string[];
  startedAt: string;
  beatAt: string;
}

export interface SystemInfo {
  backupDir: string;
  warning: boolean;
  destinations: DestinationUsage[];
}

export interface DestinationUsage {
  id: string;
  name: string;
  kind: 'local' | 's3';
  location: string;
  bytesStored: number;
  artifacts: number;
  usage: { totalBytes: number; freeBytes: number; usedPercent: number; warning: boolean } | null;
  error?: string;
}

export const notificationEvents = [
  'backup.failed',
  'backup.completed',
  'restore.completed',
  'restore.failed',
  'verification.failed',
  'configuration.overdue',
  'disk.warning',
] as const;
export type NotificationEvent = (typeof notificationEvents)[number];
export type ChannelKind = 'webhook' | 'slack' | 'discord' | 'email';

/** A notification channel as the API shows it: secrets are "********" when set, null when not. */
export interface NotificationChannel {
  id: string;
  name: string;
  kind: ChannelKind;
  events: NotificationEvent[];
  enabled: boolean;
  /** webhook, slack, discord: scheme and host only. */
  url?: string;
  signingSecret?: string | null;
  host?: string;
  port?: number;
  secure?: boolean;
  user?: string | null;
  password?: string | null;
  from?: string;
  to?: string[];
  createdAt: string;
  updatedAt: string;
}

export interface DeliveryAttempt {
  attempt: number;
  at: string;
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

export interface NotificationDelivery {
  id: string;
  channelId: string;
  event: string;
  title: string | null;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
  attemptLog: DeliveryAttempt[];
}

/** An API token as listed (never its value). */
export interface ApiToken {
  id: string;
  name: string;
  role: Role;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
}

/** A web UI session (GET /api/auth/sessions). */
export interface UiSession {
  id: string;
  current: boolean;
  actorName: string;
  role: Role;
  openedWith: 'password' | 'token';
  ip: string | null;
  userAgent: string | null;
  createdAt: string;
  lastSeenAt: string;
  expiresAt: string;
}

export interface User {
  id: string;
  username: string;
  role: Role;
  createdAt: string;
  disabledAt?: string | null;
}
