// The dashboard's other panels: workers alive, statistics, what runs now, what is late, the
// 30-day charts and how full the destinations are.
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { ApiError, queryString } from '../../api/client';
import type { BackupView as Backup, BackupDay, BackupStats, ConfigurationDetails as Configuration, Page, RestoreView as Restore, SystemReport as SystemInfo, VerificationView as Verification, WorkerView as WorkerInfo } from '@coffre/contract';
import { StatusBadge, TypeBadge } from '../../components/Badges';
import { BackupsPerDayChart, StoredBytesChart } from '../../components/Charts';
import { useApi } from '../../hooks/usePolling';
import { formatBytes, formatDuration, formatPercent, formatRelative } from '../../lib/format';
import { LoadError, Loading } from '../../components/States';
import { useOptionalRoute } from '../../capabilities';
import { DestinationUsageItem } from '../../components/DestinationUsage';
import { RunProgress } from '../../components/RunProgress';

/** Whether anything will run: backups wait in vain while no worker sends its heartbeat. */
export function WorkersAlive() {
  const { data, error } = useApi<{ items: WorkerInfo[] }>('/api/workers');
  if (!data) return error ? <span className="badge status-failed" data-testid="workers">workers: unknown</span> : null;
  const alive = data.items.length;
  const title = data.items.map((w) => `${w.host} pid ${w.pid}, heartbeat ${formatRelative(w.beatAt)}`).join('\n');
  return (
    <span className={`badge ${alive ? 'status-completed' : 'status-failed'}`} data-testid="workers" title={title || 'No worker has sent a heartbeat: nothing runs.'}>
      workers: {alive} alive
    </span>
  );
}

export function StatsWidget() {
  const { data: stats, error } = useApi<BackupStats>('/api/backups/stats');
  if (error && !stats) return <LoadError error={error} what="the statistics" />;
  if (!stats) return <Loading what="statistics" />;
  const trend = stats.trendPercent;
  return (
    <div className="stats" data-testid="stats">
      <Stat label="Success rate" value={formatPercent(stats.successRate)} hint={`${stats.byStatus.completed ?? 0} completed, ${stats.byStatus.failed ?? 0} failed`} />
      <Stat label="Stored" value={formatBytes(stats.totalSizeBytes)} hint="kept artifacts" />
      <Stat label="Average duration" value={formatDuration(stats.averageDurationMs)} hint="of successful runs" />
      <Stat
        label="Last 7 days"
        value={String(stats.last7Days.total)}
        hint={
          trend === null ? (
            `${stats.previous7Days.total} the 7 days before`
          ) : (
            <span className={trend > 0 ? 'trend-up' : trend < 0 ? 'trend-down' : ''}>
              {trend > 0 ? '▲' : trend < 0 ? '▼' : '■'} {Math.abs(trend)} % vs the 7 days before
            </span>
          )
        }
      />
      <div className="stat stat-wide">
        <span className="stat-label">By type</span>
        <span className="type-counts">
          {Object.entries(stats.byType).map(([type, count]) => (
            <span key={type} className="type-count">
              <TypeBadge type={type} /> {count}
            </span>
          ))}
        </span>
      </div>
    </div>
  );
}

function Stat({ label, value, hint }: { label: string; value: string; hint: ReactNode }) {
  return (
    <div className="stat">
      <span className="stat-label">{label}</span>
      <span className="stat-value">{value}</span>
      <span className="stat-hint">{hint}</span>
    </div>
  );
}

/** Every backup, restore and verification waiting or running, each with its phase, percentage and ETA. */
export function RunningJobs() {
  const backups = useApi<Page<Backup>>(`/api/backups${queryString({ status: 'pending,running', pageSize: 20 })}`);
  const restores = useApi<Page<Restore>>(`/api/restores${queryString({ status: 'pending,running', pageSize: 10 })}`);
  const verifications = useApi<Page<Verification>>(`/api/verifications${queryString({ status: 'pending,running', pageSize: 10 })}`);
  const loaded = backups.data && restores.data && verifications.data;
  const error = backups.error ?? restores.error ?? verifications.error;
  const jobs: RunningJob[] = [
    ...(backups.data?.items ?? []).map((b) => ({ kind: 'backup' as const, id: b.id, name: b.name, link: `/history/${b.id}`, run: b })),
    ...(restores.data?.items ?? []).map((r) => ({ kind: 'restore' as const, id: r.id, name: `Restore of ${r.backupName ?? 'a backup'}`, link: `/restores/${r.id}`, run: r })),
    ...(verifications.data?.items ?? []).map((v) => ({ kind: 'verification' as const, id: v.id, name: `Verification of ${v.backupName ?? 'a backup'}`, link: `/verifications/${v.id}`, run: v })),
  ];
  return (
    <div className="panel" data-testid="running-jobs">
      <h2>Running now</h2>
      {error && !loaded ? <LoadError error={error} what="the running jobs" /> : null}
      {!loaded && !error ? <Loading what="running jobs" /> : null}
      {loaded && jobs.length === 0 ? <p className="muted">Nothing is running.</p> : null}
      <ul className="job-list">
        {jobs.map((job) => (
          <li key={`${job.kind}-${job.id}`} className="job" data-testid="running-job" data-kind={job.kind} data-id={job.id}>
            <div className="job-head">
              <Link to={job.link} className="job-name">
                {job.name}
              </Link>
              <span className="badge">{job.kind}</span>
              <StatusBadge status={job.run.status} />
            </div>
            <RunProgress run={job.run} label={`Progress of ${job.name}`} unit={job.kind === 'backup' ? 'written' : 'read'} />
          </li>
        ))}
      </ul>
    </div>
  );
}

interface RunningJob {
  kind: 'backup' | 'restore' | 'verification';
  id: string;
  name: string;
  link: string;
  run: Backup | Restore | Verification;
}

export function OverdueConfigurations() {
  const { data, error } = useApi<{ items: Configuration[] }>('/api/configurations');
  const overdue = data?.items.filter((c) => c.overdue) ?? [];
  return (
    <div className="panel" data-testid="overdue">
      <h2>Overdue configurations</h2>
      {error && !data ? <LoadError error={error} what="the configurations" /> : null}
      {!data && !error ? <Loading what="configurations" /> : null}
      {data && overdue.length === 0 ? <p className="muted">No scheduled configuration is overdue.</p> : null}
      <ul className="plain-list">
        {overdue.map((c) => (
          <li key={c.id} className="overdue-item">
            <span className="badge status-failed">overdue</span>
            <Link to={`/configurations/${c.id}`}>{c.name}</Link>
            <span className="muted small">
              {c.scheduleDescription}; last success {c.lastCompletedAt ? formatRelative(c.lastCompletedAt) : 'never'}
            </span>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** Both charts read one aggregate: backups per UTC day by status, and bytes stored at each day's end. */
export function HistoryCharts() {
  const { data, error } = useApi<{ items: BackupDay[] }>('/api/backups/daily?days=30');
  const chart = (draw: (days: BackupDay[]) => ReactNode) =>
    data ? draw(data.items) : error ? <LoadError error={error} what="the chart" /> : <Loading what="chart" />;
  return (
    <div className="grid-2">
      <div className="panel" data-testid="chart-per-day">
        <h2>Backups per day (UTC days)</h2>
        {chart((days) => <BackupsPerDayChart data={days} />)}
      </div>
      <div className="panel" data-testid="chart-stored">
        <h2>Stored bytes, last 30 days (UTC)</h2>
        {chart((days) => <StoredBytesChart data={days} />)}
      </div>
    </div>
  );
}

/** Disk usage of the destinations (GET /api/system); hidden when the API has no such route. */
export function DiskUsagePanel() {
  const available = useOptionalRoute('get', '/api/system');
  const { data, error } = useApi<SystemInfo>(available ? '/api/system' : null);
  if (!available || (error instanceof ApiError && (error.status === 404 || error.status === 403))) return null;
  return (
    <div className="panel" data-testid="disk-usage">
      <h2>Storage</h2>
      {error && !data ? <LoadError error={error} what="the disk usage" /> : null}
      {!data && !error ? <Loading what="disk usage" /> : null}
      <ul className="plain-list">
        {data?.destinations.map((d) => <DestinationUsageItem key={d.id} destination={d} />)}
      </ul>
    </div>
  );
}
