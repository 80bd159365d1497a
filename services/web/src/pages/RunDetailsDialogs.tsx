// The details panels that /restores/:id and /verifications/:id open (the links notifications carry
// point there): one run in full, polled while it is open so that a running one ends on screen.
import { useState } from 'react';
import { Link } from 'react-router';
import type { RestoreView as Restore, SourceView as Source, VerificationView as Verification } from '@coffre/contract';
import { apiSend } from '../api/client';
import { useAuth } from '../auth';
import { StatusBadge } from '../components/Badges';
import { Button } from '../components/Button';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { useAction } from '../hooks/useAction';
import { RunProgress } from '../components/RunProgress';
import { RunLogText } from '../components/RunLogText';
import { DataTable, type Column } from '../components/DataTable';
import { DetailsDialog, Fact } from '../components/DetailsDialog';
import { Time } from '../components/Time';
import { useListApi } from '../hooks/useList';
import { useApi } from '../hooks/usePolling';
import { formatBytes, formatCount, formatDuration } from '../lib/format';

export function RestoreDetailsDialog({ id, onClose }: { id: string; onClose: () => void }) {
  const { data, error, reload } = useApi<Restore>(`/api/restores/${encodeURIComponent(id)}`);
  const sources = useListApi<Source>('/api/sources', null);
  const { can } = useAuth();
  const { busy, run } = useAction();
  const [confirmingUndo, setConfirmingUndo] = useState(false);
  const undo = async (restore: Restore) => {
    const outcome = await run('undo', () => apiSend<Restore>('POST', `/api/restores/${restore.id}/undo`), `Undone: ${restore.targetDatabase} is the database the restore replaced again.`);
    setConfirmingUndo(false);
    if (outcome.ok) await reload();
  };
  return (
    <DetailsDialog what="restore" data={data} error={error} title={(r) => `Restore of ${r.backupName ?? 'a backup'}`} onClose={onClose}>
      {(restore) => (
        <div className="details" data-testid="restore-details" data-status={restore.status}>
          <div className="details-badges">
            <StatusBadge status={restore.status} />
            <span className="badge">{restore.targetKind}</span>
            {restore.createDatabase ? <span className="badge">new database</span> : null}
          </div>
          <RunProgress run={restore} label="Progress" unit="read" />
          {restore.errorMessage ? <p className="form-error">{restore.errorMessage}</p> : null}
          <dl className="facts facts-wide">
            <BackupFact run={restore} />
            <Fact label="Into" data-testid="restore-into">
              {describeRestoreTarget(restore, sources.rows?.find((s) => s.id === restore.targetSourceId)?.name)}
            </Fact>
            <Fact label="Requested by">{restore.requestedBy ?? '—'}</Fact>
            <Fact label="Read">{formatBytes(restore.progressBytes)}</Fact>
            <RunTimes run={restore} />
            {restore.safetyBackupId ? (
              <Fact label="Safety backup">
                <Link to={`/history/${restore.safetyBackupId}`}>taken before the restore</Link>
              </Fact>
            ) : null}
            {restore.keptDatabase ? <Fact label="Replaced database kept as">{restore.keptDatabase}</Fact> : null}
            {restore.swapMs !== null ? <Fact label="Unavailable during the swap">{`${restore.swapMs} ms`}</Fact> : null}
            {restore.undoneAt ? <Fact label="Undone">{`by ${restore.undoneBy ?? '—'}; the restored database is kept as ${restore.undoneDatabase ?? '—'}`}</Fact> : null}
          </dl>
          {restore.undoable && can('admin') ? (
            <div className="details-actions">
              <Button busy={busy === 'undo'} onClick={() => setConfirmingUndo(true)}>
                Undo this restore
              </Button>
            </div>
          ) : null}
          {confirmingUndo ? (
            <ConfirmDialog title={`Undo the restore into ${restore.targetDatabase}?`} confirmLabel="Undo restore" danger busy={busy === 'undo'} onConfirm={() => void undo(restore)} onClose={() => setConfirmingUndo(false)}>
              <p>
                {`"${restore.keptDatabase}", the database this restore replaced, takes the name "${restore.targetDatabase}" again. Connections to it are ended for a moment. The restored database is kept under another name.`}
              </p>
            </ConfirmDialog>
          ) : null}
          <h3>Log</h3>
          <RunLogText log={restore.log} testId="restore-log" />
        </div>
      )}
    </DetailsDialog>
  );
}

/** Where a restore writes, in words. The API does not return a files restore's directory nor a bucket restore's prefix: the log says them. */
export function describeRestoreTarget(restore: Restore, targetSourceName?: string): string {
  if (restore.targetKind === 'files') return 'a directory (see the log)';
  if (restore.targetKind === 'bucket') return `the bucket of ${targetSourceName ?? 'a source'}`;
  const database = restore.targetDatabase ?? '—';
  return targetSourceName ? `${database} (on ${targetSourceName}'s server)` : database;
}

type Difference = NonNullable<Verification['differences']>[number];

const differenceColumns: Column<Difference>[] = [
  { header: 'Table', className: 'mono break', cell: (d) => d.table },
  { header: 'Expected', numeric: true, cell: (d) => formatCount(d.expected) },
  { header: 'Found', numeric: true, cell: (d) => formatCount(d.found) },
];

type TableRow = NonNullable<Verification['tables']>[number];

const tableColumns: Column<TableRow>[] = [
  { header: 'Table', className: 'mono break', cell: (t) => t.table },
  { header: 'Rows recorded', numeric: true, cell: (t) => (t.expected === null ? 'not counted' : formatCount(t.expected)) },
  { header: 'Rows found', numeric: true, cell: (t) => (t.found === null ? 'missing' : formatCount(t.found)) },
  { header: 'Check', cell: (t) => (t.expected !== null && t.found !== null && t.expected !== t.found ? <span className="cell-error">differs</span> : t.found === null ? <span className="cell-error">missing</span> : '✓') },
];

export function VerificationDetailsDialog({ id, onClose }: { id: string; onClose: () => void }) {
  const { data, error } = useApi<Verification>(`/api/verifications/${encodeURIComponent(id)}`);
  return (
    <DetailsDialog what="verification" data={data} error={error} title={(v) => `Verification of ${v.backupName ?? 'a backup'}`} onClose={onClose}>
      {(v) => (
        <div className="details" data-testid="verification-details" data-status={v.status}>
          <div className="details-badges">
            <StatusBadge status={v.status} />
            {v.result ? <span className={`badge result-${v.result}`}>{v.result}</span> : null}
            <span className="badge">{v.trigger}</span>
          </div>
          <RunProgress run={v} label="Progress" />
          {v.errorMessage ? <p className="form-error">{v.errorMessage}</p> : null}
          <dl className="facts facts-wide">
            <BackupFact run={v} />
            <Fact label="Tables">
              {formatCount(v.tablesFound)} found of {formatCount(v.tablesExpected)}
            </Fact>
            <Fact label="Records">
              {formatCount(v.recordsFound)} found of {formatCount(v.recordsExpected)}
            </Fact>
            <RunTimes run={v} />
          </dl>
          {v.tables && v.tables.length > 0 ? (
            <>
              <h3>Tables</h3>
              <DataTable
                list={{ rows: v.tables }}
                columns={tableColumns}
                rowKey={(t) => t.table}
                rowProps={(t) => ({ 'data-testid': 'verification-table', 'data-table': t.table, 'data-same': String(t.expected !== null && t.expected === t.found) })}
                what="tables"
                empty=""
                compact
              />
            </>
          ) : null}
          <h3>Log</h3>
          <RunLogText log={v.log} testId="verification-log" />
          {v.differences && v.differences.length > 0 ? (
            <>
              <h3>Differences</h3>
              <DataTable list={{ rows: v.differences }} columns={differenceColumns} rowKey={(d) => d.table} what="differences" empty="" compact />
            </>
          ) : null}
        </div>
      )}
    </DetailsDialog>
  );
}

function BackupFact({ run }: { run: { backupId: string; backupName?: string } }) {
  return (
    <Fact label="Backup">
      <Link to={`/history/${run.backupId}`}>{run.backupName ?? run.backupId}</Link>
    </Fact>
  );
}

function RunTimes({ run }: { run: { durationMs: number | null; createdAt: string; completedAt: string | null } }) {
  return (
    <>
      <Fact label="Duration">{formatDuration(run.durationMs)}</Fact>
      <Fact label="Created"><Time at={run.createdAt} /></Fact>
      <Fact label="Completed"><Time at={run.completedAt} /></Fact>
    </>
  );
}
