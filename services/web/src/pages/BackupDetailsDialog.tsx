// One backup in full (polled while open, so that a running one completes on screen) and what can
// be done with it: download and restore when completed, verify, delete once finished.
import { useState, type ReactElement } from 'react';
import { Link } from 'react-router';
import { ApiError, apiSend } from '../api/client';
import type { Backup, Restore, Verification } from '../api/types';
import { useAuth } from '../auth';
import { ProgressBar, StatusBadge, TypeBadge } from '../components/Badges';
import { Button } from '../components/Button';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { Dialog } from '../components/Dialog';
import { LoadError, Loading } from '../components/States';
import { useToast } from '../components/Toasts';
import { useAction } from '../hooks/useAction';
import { useApi } from '../hooks/usePolling';
import { formatBytes, formatCount, formatDateTime, formatDuration } from '../lib/format';
import { RestoreDialog } from './RestoreDialog';

interface Props {
  id: string;
  onClose: () => void;
  onChanged: () => void;
}

export function BackupDetailsDialog({ id, onClose, onChanged }: Props) {
  const { can } = useAuth();
  const toast = useToast();
  const { data: backup, error, reload } = useApi<Backup>(`/api/backups/${encodeURIComponent(id)}`);
  const [confirming, setConfirming] = useState<'delete' | 'verify' | 'restore' | null>(null);
  const { busy, run } = useAction();

  const after = async () => {
    await reload();
    onChanged();
  };

  const finished = backup && (backup.status === 'completed' || backup.status === 'failed');
  const usable = backup && backup.status === 'completed' && !backup.deletedAt;
  const databaseArtifact = backup?.artifacts?.find((a) => a.kind === 'database');

  // Only what this status and this role allow: download and restore need a completed backup whose
  // artifacts are kept; delete needs a finished one.
  function actionsOf(b: Backup) {
    const list: ReactElement[] = [];
    if (usable && databaseArtifact && can('operator')) {
      list.push(
        <a
          key="download"
          className="button button-primary"
          href={`/api/backups/${b.id}/download?artifact=database`}
          download
          onClick={() => toast.info(`The download of ${b.name} (${formatBytes(databaseArtifact.sizeBytes)}) has started.`)}
        >
          Download
        </a>,
      );
    }
    if (usable && can('admin')) {
      list.push(
        <Button key="restore" onClick={() => setConfirming('restore')}>
          Restore…
        </Button>,
      );
    }
    // A verification restores the database artifact into a scratch database: nothing to verify without one.
    if (usable && databaseArtifact && can('operator')) {
      list.push(
        <Button key="verify" onClick={() => setConfirming('verify')}>
          Verify
        </Button>,
      );
    }
    if (finished && !b.deletedAt && can('admin')) {
      list.push(
        <Button key="delete" variant="danger" onClick={() => setConfirming('delete')}>
          Delete
        </Button>,
      );
    }
    return list;
  }

  const actions = backup ? actionsOf(backup) : [];

  return (
    <Dialog title={backup ? backup.name : 'Backup'} onClose={onClose} wide busy={busy !== null}>
      {error && !backup ? <LoadError error={error} what={error instanceof ApiError && error.status === 404 ? 'this backup (it does not exist)' : 'the backup'} /> : null}
      {!backup && !error ? <Loading what="the backup" /> : null}
      {backup ? (
        <div className="details" data-testid="backup-details">
          <div className="details-badges">
            <StatusBadge status={backup.status} deleted={Boolean(backup.deletedAt)} />
            <TypeBadge type={backup.type} />
            <span className="badge">{backup.trigger}</span>
            {backup.encrypted ? <span className="badge">encrypted</span> : null}
          </div>
          {backup.status === 'running' ? <ProgressBar value={backup.progressBytes} label="Progress" /> : null}
          {backup.errorMessage ? (
            <p className="form-error" data-testid="backup-error">
              {backup.errorMessage}
            </p>
          ) : null}
          <dl className="facts facts-wide">
            <dt>Source</dt>
            <dd>{backup.sourceName}</dd>
            <dt>Size</dt>
            <dd data-testid="detail-size">{backup.status === 'running' ? `${formatBytes(backup.progressBytes)} so far` : formatBytes(backup.sizeBytes)}</dd>
            <dt>Duration</dt>
            <dd>{formatDuration(backup.durationMs)}</dd>
            <dt>Created</dt>
            <dd>{formatDateTime(backup.createdAt)}</dd>
            <dt>Completed</dt>
            <dd>{formatDateTime(backup.completedAt)}</dd>
            <dt>Checksum (SHA-256)</dt>
            <dd className="mono break" data-testid="detail-checksum">
              {backup.checksumSha256 ?? '—'}
            </dd>
            <dt>Server version</dt>
            <dd>{backup.serverVersion ?? '—'}</dd>
            <dt>pg_dump version</dt>
            <dd>{backup.pgDumpVersion ?? '—'}</dd>
            <dt>Tables</dt>
            <dd>{formatCount(backup.tablesCount)}</dd>
            <dt>Records</dt>
            <dd>{formatCount(backup.recordsCount)}</dd>
            <dt>Files</dt>
            <dd>{formatCount(backup.filesCount)}</dd>
            {backup.objectsCount !== undefined && backup.objectsCount !== null ? (
              <>
                <dt>Objects</dt>
                <dd>{formatCount(backup.objectsCount)}</dd>
              </>
            ) : null}
            <dt>Compression</dt>
            <dd>{backup.compression}</dd>
            {backup.lastVerification ? (
              <>
                <dt>Last verification</dt>
                <dd>
                  <Link to="/verifications">{backup.lastVerification.result ?? backup.lastVerification.status}</Link> {formatDateTime(backup.lastVerification.completedAt)}
                </dd>
              </>
            ) : null}
            {backup.deletedAt ? (
              <>
                <dt>Deleted</dt>
                <dd>{formatDateTime(backup.deletedAt)}</dd>
              </>
            ) : null}
          </dl>
          {backup.artifacts && backup.artifacts.length > 0 ? (
            <>
              <h3>Artifacts</h3>
              <ul className="plain-list artifacts">
                {backup.artifacts.map((a) => (
                  <li key={`${a.kind}-${a.destination}-${a.key}`}>
                    <span className="badge">{a.kind}</span> {formatBytes(a.sizeBytes)} on {a.destination} <span className="mono muted small break">{a.key}</span>
                  </li>
                ))}
              </ul>
            </>
          ) : null}
          <h3>Log</h3>
          <pre className="log" data-testid="backup-log" tabIndex={0}>
            {backup.log?.trim() || 'No log yet.'}
          </pre>
          {actions.length > 0 ? <div className="details-actions">{actions}</div> : null}
        </div>
      ) : null}
      {backup && confirming === 'delete' ? (
        <ConfirmDialog
          title={`Delete ${backup.name}?`}
          confirmLabel="Delete backup"
          danger
          busy={busy === 'delete'}
          onClose={() => setConfirming(null)}
          onConfirm={async () => {
            const outcome = await run('delete', () => apiSend('DELETE', `/api/backups/${backup.id}`), `${backup.name} is deleted.`);
            if (outcome.ok) setConfirming(null);
            await after();
          }}
        >
          <p>Its artifacts are removed from every destination; the history keeps the row, marked deleted. This cannot be undone.</p>
        </ConfirmDialog>
      ) : null}
      {backup && confirming === 'verify' ? (
        <ConfirmDialog
          title={`Verify ${backup.name}?`}
          confirmLabel="Verify"
          busy={busy === 'verify'}
          onClose={() => setConfirming(null)}
          onConfirm={async () => {
            const outcome = await run('verify', () => apiSend<Verification>('POST', `/api/backups/${backup.id}/verify`), `The verification of ${backup.name} is queued.`);
            if (outcome.ok) setConfirming(null);
            await after();
          }}
        >
          <p>A worker restores it into a scratch database and compares the tables and records with what the backup recorded. The scratch database is dropped afterwards.</p>
        </ConfirmDialog>
      ) : null}
      {backup && confirming === 'restore' ? (
        <RestoreDialog
          backup={backup}
          onClose={() => setConfirming(null)}
          onRestored={async (_restore: Restore, into: string) => {
            setConfirming(null);
            toast.success(`The restore of ${backup.name} into ${into} is queued.`);
            await after();
          }}
        />
      ) : null}
    </Dialog>
  );
}
