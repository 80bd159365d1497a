// Restore history; /restores/:id opens one restore's details (notifications link there).
import { Link, useNavigate, useParams } from 'react-router';
import type { RestoreView as Restore, SourceView as Source } from '@coffre/contract';
import { ProgressBar } from '../components/Badges';
import { DataTable, detailsColumn, type Column } from '../components/DataTable';
import { Page } from '../components/Page';
import { useListApi, usePagedApi } from '../hooks/useList';
import { formatBytes } from '../lib/format';
import { RestoreDetailsDialog, describeRestoreTarget } from './RunDetailsDialogs';
import { backupColumn, createdColumn, durationColumn, statusColumn } from './runColumns';

const PAGE_SIZE = 20;

export function RestoresPage() {
  const restores = usePagedApi<Restore>('/api/restores', {}, PAGE_SIZE);
  const sources = useListApi<Source>('/api/sources');
  const sourceName = (id: string | null) => (id ? sources.rows?.find((s) => s.id === id)?.name : undefined);
  const { id } = useParams();
  const navigate = useNavigate();
  const backupOf = (r: Restore) => r.backupName ?? r.backupId;

  const columns: Column<Restore>[] = [
    backupColumn(),
    statusColumn((r) =>
      r.status === 'running' ? (
        <>
          <ProgressBar value={r.progressBytes} label={`Progress of the restore of ${backupOf(r)}`} />
          <span className="muted small">{formatBytes(r.progressBytes)} read</span>
        </>
      ) : null,
    ),
    {
      header: 'Into',
      cell: (r) => (
        <>
          {describeRestoreTarget(r, sourceName(r.targetSourceId))}
          {r.createDatabase ? <span className="muted small"> (new)</span> : null}
          {r.safetyBackupId ? (
            <>
              {' '}
              <Link className="small" to={`/history/${r.safetyBackupId}`}>
                safety backup
              </Link>
            </>
          ) : null}
        </>
      ),
    },
    { header: 'Requested by', label: 'By', cell: (r) => r.requestedBy ?? '—' },
    durationColumn(),
    createdColumn(),
    detailsColumn((r) => `Details of the restore of ${backupOf(r)}`, (r) => navigate(`/restores/${r.id}`)),
  ];

  return (
    <Page title="Restores">
      <DataTable
        list={restores}
        columns={columns}
        rowKey={(r) => r.id}
        rowProps={(r) => ({ 'data-testid': 'restore-row', 'data-status': r.status, 'data-id': r.id })}
        what="restores"
        empty="No restore yet. Restore a completed backup from the history."
        testId="restores-table"
      />
      {id ? <RestoreDetailsDialog id={id} onClose={() => navigate('/restores')} /> : null}
    </Page>
  );
}
