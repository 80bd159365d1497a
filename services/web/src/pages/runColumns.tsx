// Columns the history, restore and verification lists share.
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import type { RunStatus } from '@coffre/contract';
import { StatusBadge } from '../components/Badges';
import type { Column } from '../components/DataTable';
import { formatDuration } from '../lib/format';
import { Time } from '../components/Time';

/** A restore or a verification: a run of something on one backup. */
interface BackupRun {
  backupId: string;
  backupName?: string;
  status: RunStatus;
  errorMessage: string | null;
}

/** The backup it ran on, linked to its details, with the run's error under it; `more` adds lines. */
export function backupColumn<R extends BackupRun>(more?: (run: R) => ReactNode): Column<R> {
  return {
    header: 'Backup',
    className: 'cell-name',
    cell: (run) => (
      <>
        <Link to={`/history/${run.backupId}`}>{run.backupName ?? run.backupId}</Link>
        {run.errorMessage ? <span className="cell-error">{run.errorMessage}</span> : null}
        {more?.(run)}
      </>
    ),
  };
}

export function statusColumn<R extends { status: RunStatus }>(more?: (run: R) => ReactNode): Column<R> {
  return {
    header: 'Status',
    cell: (run) => (
      <>
        <StatusBadge status={run.status} />
        {more?.(run)}
      </>
    ),
  };
}

export function durationColumn<R extends { durationMs: number | null }>(): Column<R> {
  return { header: 'Duration', numeric: true, cell: (run) => formatDuration(run.durationMs) };
}

export function createdColumn<R extends { createdAt: string }>(): Column<R> {
  return { header: 'Created', cell: (run) => <Time at={run.createdAt} /> };
}
