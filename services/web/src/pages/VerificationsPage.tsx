// Verification history; /verifications/:id opens one verification's details (notifications link there).
import { useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import type { VerificationView as Verification } from '@coffre/contract';
import { DataTable, detailsColumn, type Column } from '../components/DataTable';
import { Page } from '../components/Page';
import { useAuth } from '../auth';
import { usePagedApi } from '../hooks/useList';
import { formatCount } from '../lib/format';
import { VerificationDetailsDialog } from './RunDetailsDialogs';
import { VerifyBackupDialog } from './VerifyBackupDialog';
import { backupColumn, createdColumn, durationColumn, statusColumn } from './runColumns';

const PAGE_SIZE = 20;

export function VerificationsPage() {
  const verifications = usePagedApi<Verification>('/api/verifications', {}, PAGE_SIZE);
  const { id } = useParams();
  const navigate = useNavigate();
  const { can } = useAuth();
  const [picking, setPicking] = useState(false);

  const columns: Column<Verification>[] = [
    backupColumn((v) => (v.differences && v.differences.length > 0 ? <span className="cell-error">Differs in {describeDifferences(v.differences)}</span> : null)),
    statusColumn(),
    { header: 'Result', cell: (v) => (v.result ? <span className={`badge result-${v.result}`}>{v.result}</span> : '—') },
    { header: 'Tables', numeric: true, cell: (v) => `${formatCount(v.tablesFound)} / ${formatCount(v.tablesExpected)}` },
    { header: 'Records', numeric: true, cell: (v) => `${formatCount(v.recordsFound)} / ${formatCount(v.recordsExpected)}` },
    durationColumn(),
    createdColumn(),
    detailsColumn((v) => `Details of the verification of ${v.backupName ?? v.backupId}`, (v) => navigate(`/verifications/${v.id}`)),
  ];

  return (
    <Page title="Verifications" action={can('operator') ? { label: 'Verify a backup', onClick: () => setPicking(true) } : null} intro="Each verification restores a backup into a scratch database and compares what it finds with what the backup recorded.">
      <DataTable
        list={verifications}
        columns={columns}
        rowKey={(v) => v.id}
        rowProps={(v) => ({ 'data-testid': 'verification-row', 'data-status': v.status, 'data-id': v.id })}
        what="verifications"
        empty="No verification yet. Verify a completed backup here or from the history."
        testId="verifications-table"
      />
      {id ? <VerificationDetailsDialog id={id} onClose={() => navigate('/verifications')} /> : null}
      {picking ? (
        <VerifyBackupDialog
          onClose={() => setPicking(false)}
          onQueued={async (verification) => {
            setPicking(false);
            await verifications.reload();
            navigate(`/verifications/${verification.id}`);
          }}
        />
      ) : null}
    </Page>
  );
}

/** The first three tables whose counts differ, "customers (500 → 499)", and how many more. */
function describeDifferences(differences: NonNullable<Verification['differences']>): string {
  const first = differences.slice(0, 3).map((d) => `${d.table} (${formatCount(d.expected)} → ${formatCount(d.found)})`);
  return `${first.join(', ')}${differences.length > 3 ? ` and ${differences.length - 3} more` : ''}`;
}
