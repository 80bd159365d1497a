// One backup in full (polled while open, so that a running one completes on screen) and what can
// be done with it: download and restore when completed, verify, delete once finished.
import { useState, type ComponentProps, type ReactElement } from 'react';
import { Link } from 'react-router';
import { apiSend } from '../api/client';
import type { BackupView as Backup, VerificationView as Verification } from '@coffre/contract';
import { useAuth } from '../auth';
import { StatusBadge, TypeBadge } from '../components/Badges';
import { RunProgress } from '../components/RunProgress';
import { RunLogText } from '../components/RunLogText';
import { Button } from '../components/Button';
import { ConfirmActionDialog } from '../components/ConfirmDialog';
import { DetailsDialog, Fact } from '../components/DetailsDialog';
import { Time } from '../components/Time';
import { useToast } from '../components/Toasts';
import { useConfirmedAction } from '../hooks/useConfirmedAction';
import { useApi } from '../hooks/usePolling';
import { formatBytes, formatCount, formatDateTime, formatDuration } from '../lib/format';
import { RestoreDialog } from './RestoreDialog';
import { ServerBackupContents, isServerBackup } from './ServerBackupContents';
import { ServerRestoreDialog } from './ServerRestoreDialog';

interface Props {
  id: string;
  onClose: () => void;
  onChanged: () => void;
}

export function BackupDetailsDialog({ id, onClose, onChanged }: Props) {
  const toast = useToast();
  const { data, error, reload } = useApi<Backup>(`/api/backups/${encodeURIComponent(id)}`);
  const [restoring, setRestoring] = useState(false);
  const after = async () => {
    await reload();
    onChanged();
  };
  const removal = useConfirmedAction<Backup>((b) => apiSend('DELETE', `/api/backups/${b.id}`), (b) => `${b.name} is deleted.`, after);
  const verification = useConfirmedAction<Backup>((b) => apiSend<Verification>('POST', `/api/backups/${b.id}/verify`), (b) => `The verification of ${b.name} is queued.`, after);

  return (
    <DetailsDialog what="backup" data={data} error={error} title={(b) => b.name} onClose={onClose} busy={removal.busy || verification.busy}>
      {(backup) => (
        <>
          <div className="details" data-testid="backup-details">
            <div className="details-badges">
              <StatusBadge status={backup.status} deleted={Boolean(backup.deletedAt)} />
              <TypeBadge type={backup.type} />
              <span className="badge">{backup.trigger}</span>
              {backup.encrypted ? <span className="badge">encrypted</span> : null}
            </div>
            <RunProgress run={backup} label="Progress" />
            {backup.errorMessage ? (
              <p className="form-error" data-testid="backup-error">
                {backup.errorMessage}
              </p>
            ) : null}
            <BackupFacts backup={backup} />
            {isServerBackup(backup) ? <ServerBackupContents backup={backup} /> : null}
            {backup.artifacts && backup.artifacts.length > 0 ? (
              <>
                <h3>Artifacts</h3>
                <ul className="plain-list artifacts">
                  {backup.artifacts.map((a) => (
                    <li key={`${a.kind}-${a.destination}-${a.key}`} data-testid="artifact" data-kind={a.kind}>
                      <span className="badge">{a.kind}</span> {formatBytes(a.sizeBytes)} on {a.destination} <span className="mono muted small break">{a.key}</span>
                    </li>
                  ))}
                </ul>
                <ArtifactDownloads backup={backup} />
              </>
            ) : null}
            <h3>Log</h3>
            <RunLogText log={backup.log} testId="backup-log" />
            <BackupActions backup={backup} onRestore={() => setRestoring(true)} onVerify={() => verification.ask(backup)} onDelete={() => removal.ask(backup)} />
          </div>
          <ConfirmActionDialog action={removal} title={(b) => `Delete ${b.name}?`} confirmLabel="Delete backup" danger>
            {() => <p>Its artifacts are removed from every destination; the history keeps the row, marked deleted. This cannot be undone.</p>}
          </ConfirmActionDialog>
          <ConfirmActionDialog action={verification} title={(b) => `Verify ${b.name}?`} confirmLabel="Verify">
            {() => <p>A worker restores it into a scratch database and compares the tables and records with what the backup recorded. The scratch database is dropped afterwards.</p>}
          </ConfirmActionDialog>
          {restoring ? (
            <BackupRestoreDialog
              backup={backup}
              onClose={() => setRestoring(false)}
              onRestored={async (restore, into) => {
                setRestoring(false);
                toast.success(`The restore of ${backup.name} into ${into} is queued.`, { to: `/restores/${restore.id}`, label: 'Follow it' });
                await after();
              }}
            />
          ) : null}
        </>
      )}
    </DetailsDialog>
  );
}

/** A server backup restores one of its databases, or all of them and the globals; any other backup, what it holds. */
function BackupRestoreDialog(props: ComponentProps<typeof RestoreDialog>) {
  return isServerBackup(props.backup) ? <ServerRestoreDialog {...props} /> : <RestoreDialog {...props} />;
}

function BackupFacts({ backup }: { backup: Backup }) {
  return (
    <dl className="facts facts-wide">
      <Fact label="Source">{backup.sourceName}</Fact>
      <Fact label="Size" data-testid="detail-size">
        {backup.status === 'running' ? `${formatBytes(backup.progressBytes)} so far` : formatBytes(backup.sizeBytes)}
      </Fact>
      <Fact label="Duration">{formatDuration(backup.durationMs)}</Fact>
      <Fact label="Created"><Time at={backup.createdAt} /></Fact>
      <Fact label="Completed"><Time at={backup.completedAt} /></Fact>
      <Fact label="Checksum (SHA-256)" className="mono break" data-testid="detail-checksum">
        {backup.checksumSha256 ?? '—'}
      </Fact>
      <Fact label="Server version">{backup.serverVersion ?? '—'}</Fact>
      <Fact label="pg_dump version">{backup.pgDumpVersion ?? '—'}</Fact>
      <Fact label="Tables">{formatCount(backup.tablesCount)}</Fact>
      <Fact label="Records">{formatCount(backup.recordsCount)}</Fact>
      <Fact label="Files">{formatCount(backup.filesCount)}</Fact>
      {backup.objectsCount !== undefined && backup.objectsCount !== null ? <Fact label="Objects">{formatCount(backup.objectsCount)}</Fact> : null}
      <Fact label="Compression">{backup.compression}</Fact>
      {backup.lastVerification ? (
        <Fact label="Last verification">
          <Link to="/verifications">{backup.lastVerification.result ?? backup.lastVerification.status}</Link> {formatDateTime(backup.lastVerification.completedAt)}
        </Fact>
      ) : null}
      {backup.deletedAt ? <Fact label="Deleted"><Time at={backup.deletedAt} /></Fact> : null}
    </dl>
  );
}

const artifactWords: Record<string, string> = {
  database: 'the database dump',
  files: 'the files archive',
  bucket: 'the bucket archive',
  manifest: 'the manifest',
  'restore-notes': 'RESTORE.md',
};

/** A link per kind of artifact kept (the first readable copy is served), for operators and up. */
function ArtifactDownloads({ backup: b }: { backup: Backup }) {
  const { can } = useAuth();
  const toast = useToast();
  if (b.status !== 'completed' || b.deletedAt || !can('operator')) return null;
  // A server backup's globals and databases are not served one by one: its manifest and RESTORE.md are.
  const kinds = [...new Set((b.artifacts ?? []).map((a) => a.kind))].filter((kind) => kind in artifactWords);
  return (
    <p className="artifact-downloads" data-testid="artifact-downloads">
      <span className="muted">Download:</span>
      {kinds.map((kind) => (
        <a
          key={kind}
          className="button button-small"
          href={`/api/backups/${b.id}/download?artifact=${kind}`}
          download
          aria-label={`Download ${artifactWords[kind] ?? kind} of ${b.name}`}
          data-kind={kind}
          onClick={() => toast.info(`The download of ${artifactWords[kind] ?? kind} of ${b.name} has started.`)}
        >
          {kind === 'restore-notes' ? 'RESTORE.md' : kind === 'database' ? 'Dump' : kind.charAt(0).toUpperCase() + kind.slice(1)}
        </a>
      ))}
    </p>
  );
}

/**
 * Only what this status and this role allow: download and restore need a completed backup whose
 * artifacts are kept; delete needs a finished one.
 */
function BackupActions({ backup: b, onRestore, onVerify, onDelete }: { backup: Backup; onRestore: () => void; onVerify: () => void; onDelete: () => void }) {
  const { can } = useAuth();
  const toast = useToast();
  const finished = b.status === 'completed' || b.status === 'failed';
  const usable = b.status === 'completed' && !b.deletedAt;
  const databaseArtifact = b.artifacts?.find((a) => a.kind === 'database');
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
      <Button key="restore" onClick={onRestore}>
        Restore…
      </Button>,
    );
  }
  // A verification restores the database artifact into a scratch database: nothing to verify without one.
  if (usable && databaseArtifact && can('operator')) {
    list.push(
      <Button key="verify" onClick={onVerify}>
        Verify
      </Button>,
    );
  }
  if (finished && !b.deletedAt && can('admin')) {
    list.push(
      <Button key="delete" variant="danger" onClick={onDelete}>
        Delete
      </Button>,
    );
  }
  return list.length > 0 ? <div className="details-actions">{list}</div> : null;
}
