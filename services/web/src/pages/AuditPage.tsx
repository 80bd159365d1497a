// Who did what, when and from where (admins only; the API refuses the others too).
import { useState } from 'react';
import type { AuditEventView as AuditEvent } from '@coffre/contract';
import { DataTable, type Column } from '../components/DataTable';
import { FilterBar, FilterField } from '../components/Filters';
import { Page } from '../components/Page';
import { useDebounced } from '../hooks/useDebounced';
import { usePagedApi } from '../hooks/useList';
import { formatDateTime } from '../lib/format';

const PAGE_SIZE = 50;

const columns: Column<AuditEvent>[] = [
  { header: 'When', className: 'nowrap', cell: (e) => formatDateTime(e.at) },
  {
    header: 'Who',
    cell: (e) => (
      <>
        {e.actorName} <span className="muted small">({e.actorType})</span>
      </>
    ),
  },
  { header: 'Action', className: 'mono', cell: (e) => e.action },
  {
    header: 'Target',
    className: 'break',
    cell: (e) => (
      <>
        {e.targetType ? (
          <>
            {e.targetType} <span className="mono small muted" title={e.targetId ?? ''}>{e.targetId ? `…${e.targetId.slice(-8)}` : ''}</span>
          </>
        ) : (
          '—'
        )}
        {summaryText(e.summary) ? <span className="muted small block">{summaryText(e.summary)}</span> : null}
      </>
    ),
  },
  { header: 'Outcome', cell: (e) => <span className={`badge ${e.outcome === 'success' ? 'status-completed' : 'status-failed'}`}>{e.outcome}</span> },
  { header: 'From', cell: (e) => e.ip ?? '—' },
];

export function AuditPage() {
  const [action, setAction] = useState('');
  const [actor, setActor] = useState('');
  const applied = useDebounced({ action: action.trim(), actor: actor.trim() });
  const events = usePagedApi<AuditEvent>('/api/audit', applied, PAGE_SIZE);

  return (
    <Page title="Audit log">
      <FilterBar>
        <FilterField label="Action starts with">
          <input value={action} placeholder="backup." onChange={(e) => setAction(e.target.value)} />
        </FilterField>
        <FilterField label="Actor">
          <input value={actor} placeholder="admin" onChange={(e) => setActor(e.target.value)} />
        </FilterField>
      </FilterBar>
      <DataTable list={events} columns={columns} rowKey={(e) => e.id} what="audit log" empty="No event matches." testId="audit-table" />
    </Page>
  );
}

function summaryText(summary: unknown): string {
  if (!summary || typeof summary !== 'object') return '';
  const after = (summary as { after?: Record<string, unknown> }).after;
  const source = after && typeof after === 'object' ? after : (summary as Record<string, unknown>);
  const name = source.name;
  return typeof name === 'string' ? name : '';
}
