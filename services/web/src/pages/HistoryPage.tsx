// The backup history: search and filters kept in the URL, pages, a details panel, and the actions
// each status allows (download and restore only when completed, delete once finished).
import { useEffect, useState } from 'react';
import { useNavigate, useParams, useSearchParams } from 'react-router';
import { apiGet, queryString } from '../api/client';
import type { BackupView as Backup, BackupType, Page as ApiPage, RunStatus } from '@coffre/contract';
import { StatusBadge, TypeBadge } from '../components/Badges';
import { Button } from '../components/Button';
import { DataTable, detailsColumn, type Column } from '../components/DataTable';
import { FilterBar, FilterField, FilterSelect } from '../components/Filters';
import { Page } from '../components/Page';
import { usePolling } from '../hooks/usePolling';
import { backupQuery, dateRangeProblem, emptyFilters, filtersFromSearch, filtersToSearch, hasFilters, type HistoryFilters } from '../lib/history-filters';
import { formatBytes } from '../lib/format';
import { BackupDetailsDialog } from './BackupDetailsDialog';
import { createdColumn, durationColumn } from './runColumns';
import { ImportDropZone } from './ImportDropZone';
import { useAuth } from '../auth';

const PAGE_SIZE = 20;
const types: readonly BackupType[] = ['full', 'schema', 'data'];
const statuses: readonly RunStatus[] = ['pending', 'running', 'completed', 'failed'];

export function HistoryPage() {
  const [search, setSearch] = useSearchParams();
  const { id } = useParams();
  const navigate = useNavigate();
  const { can } = useAuth();
  const filters = filtersFromSearch(search);
  const [text, setText] = useState(filters.q);
  // Reset starts the filter fields afresh (a new key): a date typed halfway is in no state and in no
  // URL, yet shows until its input is replaced.
  const [fields, setFields] = useState({ generation: 0, typed: false });
  const rangeProblem = dateRangeProblem(filters);

  const update = (change: Partial<HistoryFilters>) => {
    const next = { ...filters, page: 1, ...change };
    setSearch(filtersToSearch(next), { replace: 'q' in change });
  };

  // The search box writes to the URL once typing pauses.
  useEffect(() => {
    if (text.trim() === filters.q) return;
    const timer = setTimeout(() => update({ q: text }), 300);
    return () => clearTimeout(timer);
  }, [text]);
  // Back/forward changes the URL: the box follows.
  useEffect(() => setText((current) => (current.trim() === filters.q ? current : filters.q)), [filters.q]);

  const key = filtersToSearch(filters).toString();
  const { data, error, dataFor, reload } = usePolling<ApiPage<Backup>>(
    (signal) => (rangeProblem ? Promise.resolve({ items: [], total: 0, page: 1, pageSize: PAGE_SIZE }) : apiGet(`/api/backups${queryString(backupQuery(filters, PAGE_SIZE))}`, signal)),
    [key],
    ['backups'],
  );

  // Decided at render, so that rows of the previous filter never pass for the new one's.
  const stale = dataFor !== JSON.stringify([key]);

  const openDetails = (backupId: string) => navigate({ pathname: `/history/${backupId}`, search: key ? `?${key}` : '' });
  const closeDetails = () => navigate({ pathname: '/history', search: key ? `?${key}` : '' });

  const columns: Column<Backup>[] = [
    { header: 'Name', className: 'cell-name', cell: (b) => b.name },
    { header: 'Type', cell: (b) => <TypeBadge type={b.type} /> },
    { header: 'Status', cell: (b) => <StatusBadge status={b.status} deleted={Boolean(b.deletedAt)} /> },
    { header: 'Source', cell: (b) => b.sourceName },
    { header: 'Size', numeric: true, cell: (b) => (b.status === 'running' ? formatBytes(b.progressBytes) : formatBytes(b.sizeBytes)) },
    durationColumn(),
    createdColumn(),
    detailsColumn((b) => `Details of ${b.name}`, (b) => openDetails(b.id)),
  ];

  return (
    <Page title="History" aside={data && !stale ? <span className="muted" data-testid="history-total">{`${data.total} backup${data.total === 1 ? '' : 's'}`}</span> : null}>
      <FilterBar key={fields.generation} onInput={() => setFields((f) => (f.typed ? f : { ...f, typed: true }))}>
        <FilterField label="Search" grow>
          <input type="search" name="q" placeholder="Name, source or id" value={text} onChange={(e) => setText(e.target.value)} />
        </FilterField>
        <FilterSelect label="Type" name="type" value={filters.type} any="Any type" options={types} onChange={(type) => update({ type })} />
        <FilterSelect label="Status" name="status" value={filters.status} any="Any status" options={statuses} onChange={(status) => update({ status })} />
        <FilterField label="From">
          <input type="date" name="from" value={filters.from} max={filters.to || undefined} onChange={(e) => update({ from: e.target.value })} />
        </FilterField>
        <FilterField label="To">
          <input type="date" name="to" value={filters.to} min={filters.from || undefined} onChange={(e) => update({ to: e.target.value })} />
        </FilterField>
        <Button
          className="filters-reset"
          disabled={!hasFilters(filters) && !text && !fields.typed}
          onClick={() => {
            setText('');
            setFields((f) => ({ generation: f.generation + 1, typed: false }));
            setSearch(filtersToSearch(emptyFilters));
          }}
        >
          Reset
        </Button>
      </FilterBar>
      {rangeProblem ? (
        <p className="form-error" role="alert">
          {rangeProblem}
        </p>
      ) : null}
      {can('operator') ? <ImportDropZone onImported={(backup) => (reload(), openDetails(backup.id))} /> : null}
      <DataTable
        list={{ rows: data?.items, error, stale, paging: data ? { page: filters.page, pageSize: PAGE_SIZE, total: data.total, onPage: (page) => update({ page }) } : undefined }}
        columns={columns}
        rowKey={(b) => b.id}
        rowProps={(b) => ({ 'data-testid': 'history-row', 'data-name': b.name, 'data-status': b.status })}
        what="history"
        empty={hasFilters(filters) ? 'No backup matches these filters.' : 'No backup yet.'}
        testId="history-table"
        results={{ 'data-testid': 'history-results', 'aria-busy': stale, 'data-query': stale ? undefined : key }}
      />
      {id ? <BackupDetailsDialog id={id} onClose={closeDetails} onChanged={reload} /> : null}
    </Page>
  );
}
