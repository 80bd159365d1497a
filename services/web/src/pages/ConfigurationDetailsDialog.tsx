// What /configurations/:id opens (an overdue configuration's notification links there): the
// configuration in full and its latest backups, with the actions the role allows.
import { Link } from 'react-router';
import { apiSend, queryString } from '../api/client';
import type { BackupView as Backup, ConfigurationDetails as Configuration, Page } from '@coffre/contract';
import { useAuth } from '../auth';
import { StatusBadge, TypeBadge } from '../components/Badges';
import { Button } from '../components/Button';
import { DetailsDialog, Fact } from '../components/DetailsDialog';
import { useAction } from '../hooks/useAction';
import { useApi } from '../hooks/usePolling';
import { describeNextRun, describeRetention, formatBytes, formatDateTime, formatRelative } from '../lib/format';

interface Props {
  id: string;
  onClose: () => void;
  onEdit: (configuration: Configuration) => void;
}

export function ConfigurationDetailsDialog({ id, onClose, onEdit }: Props) {
  const { can } = useAuth();
  const { data, error } = useApi<Configuration>(`/api/configurations/${encodeURIComponent(id)}`);
  const latest = useApi<Page<Backup>>(`/api/backups${queryString({ configurationId: id, pageSize: 5 })}`);
  const { busy, run } = useAction();
  return (
    <DetailsDialog what="configuration" data={data} error={error} title={(c) => c.name} onClose={onClose} busy={busy !== null}>
      {(c) => (
        <div className="details" data-testid="configuration-details">
          <div className="details-badges">
            <TypeBadge type={c.type} />
            <span className={`badge${c.active ? ' status-completed' : ''}`}>{c.active ? 'active' : 'inactive'}</span>
            {c.overdue ? <span className="badge status-failed">overdue</span> : null}
            {c.encrypted ? <span className="badge">encrypted</span> : null}
          </div>
          {c.overdue ? <p className="warning">Overdue: no successful backup when one was due.</p> : null}
          <dl className="facts facts-wide">
            <Fact label="Schedule">{c.scheduleDescription}</Fact>
            <Fact label="Source">{c.sourceName}</Fact>
            <Fact label="Next run">{describeNextRun(c)}</Fact>
            <Fact label="Last success">{c.lastCompletedAt ? formatRelative(c.lastCompletedAt) : 'Never'}</Fact>
            <Fact label="Retention">{describeRetention(c.retention)}</Fact>
            <Fact label="Compression">
              {c.compression}
              {c.compressionLevel ? ` level ${c.compressionLevel}` : ''}
              {c.dumpJobs > 1 ? `, pg_dump directory format with ${c.dumpJobs} jobs` : ''}
            </Fact>
            <Fact label="Verification">{c.verifySchedule === 'none' ? 'Never' : c.verifySchedule}</Fact>
            <Fact label="Files" className="mono break">
              {c.includePaths.length ? c.includePaths.join(', ') : '—'}
            </Fact>
          </dl>
          <h3>Latest backups</h3>
          {latest.data && latest.data.items.length === 0 ? <p className="muted">No backup yet.</p> : null}
          <ul className="plain-list">
            {latest.data?.items.map((b) => (
              <li key={b.id} className="overdue-item">
                <StatusBadge status={b.status} deleted={Boolean(b.deletedAt)} />
                <Link to={`/history/${b.id}`} className="break">
                  {b.name}
                </Link>
                <span className="muted small">
                  {formatDateTime(b.createdAt)}
                  {b.sizeBytes ? `, ${formatBytes(b.sizeBytes)}` : ''}
                </span>
              </li>
            ))}
          </ul>
          {can('operator') ? (
            <div className="details-actions">
              <Button
                variant="primary"
                busy={busy === 'run'}
                onClick={() => run('run', () => apiSend<Backup>('POST', `/api/configurations/${c.id}/run`), `Backup of ${c.name} is queued.`).then(() => latest.reload())}
              >
                Run now
              </Button>
              {can('admin') ? <Button onClick={() => onEdit(c)}>Edit</Button> : null}
              <Link className="button" to={`/history?${new URLSearchParams({ q: c.name })}`}>
                All its backups
              </Link>
            </div>
          ) : null}
        </div>
      )}
    </DetailsDialog>
  );
}
