// The backup history: search and filters kept in the URL, pages, a details panel, and the actions
// each status allows (download and restore only when completed, delete once finished).
import { useEffect, useState } from 'react';
import { useNavigate, useParams, useSearchParams } from 'react-router';
import { apiGet, queryString } from '../api/client';
import type { Backup, Page } from '../api/types';
import { StatusBadge, TypeBadge } from '../components/Badges';
import { Button } from '../components/Button';
import { Pagination } from '../components/Pagination';
import { Empty, LoadError, Loading } from '../components/States';
import { usePolling } from '../hooks/usePolling';
import { backupQuery, dateRangeProblem, emptyFilters, filtersFromSearch, filtersToSearch, hasFilters, type HistoryFilters } from '../lib/history-filters';
import { formatBytes, formatDateTime, formatDuration } from '../lib/format';
import { BackupDetailsDialog } from './BackupDetailsDialog';

const PAGE_SIZE = 20;

export function HistoryPage() {
  const [search, setSearch] = useSearchParams();
  const { id } = useParams();
  const navigate = useNavigate();
  const filters = filtersFromSearch(search);
  const [text, setText] = useState(filters.q);
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
  const { data, error, loading, dataFor, reload } = usePolling<Page<Backup>>(
    (signal) => (rangeProblem ? Promise.resolve({ items: [], total: 0, page: 1, pageSize: PAGE_SIZE }) : apiGet(`/api/backups${queryString(backupQuery(filters, PAGE_SIZE))}`, signal)),
    [key],
  );

  // Decided at render, so that rows of the previous filter never pass for the new one's.
  const stale = dataFor !== JSON.stringify([key]);

  const openDetails = (backupId: string) => navigate({ pathname: `/history/${backupId}`, search: key ? `?${key}` : '' });
  const closeDetails = () => navigate({ pathname: '/history', search: key ? `?${key}` : '' });

  return (
    <section className="page">
      <header className="page-header">
        <h1>History</h1>
        {data && !stale ? <span className="muted" data-testid="history-total">{`${data.total} backup${data.total === 1 ? '' : 's'}`}</span> : null}
      </header>
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label className="field field-grow">
          <span>Search</span>
          <input type="search" name="q" placeholder="Name, source or id" value={text} onChange={(e) => setText(e.target.value)} />
        </label>
        <label className="field">
          <span>Type</span>
          <select name="type" value={filters.type} onChange={(e) => update({ type: e.target.value as HistoryFilters['type'] })}>
            <option value="">Any type</option>
            <option value="full">full</option>
            <option value="schema">schema</option>
            <option value="data">data</option>
          </select>
        </label>
        <label className="field">
          <span>Status</span>
          <select name="status" value={filters.status} onChange={(e) => update({ status: e.target.value as HistoryFilters['status'] })}>
            <option value="">Any status</option>
            <option value="pending">pending</option>
            <option value="running">running</option>
            <option value="completed">completed</option>
            <option value="failed">failed</option>
          </select>
        </label>
        <label className="field">
          <span>From</span>
          <input type="date" name="from" value={filters.from} max={filters.to || undefined} onChange={(e) => update({ from: e.target.value })} />
        </label>
        <label className="field">
          <span>To</span>
          <input type="date" name="to" value={filters.to} min={filters.from || undefined} onChange={(e) => update({ to: e.target.value })} />
        </label>
        <Button
          className="filters-reset"
          disabled={!hasFilters(filters) && !text}
          onClick={() => {
            setText('');
            setSearch(filtersToSearch(emptyFilters));
          }}
        >
          Reset
        </Button>
      </form>
      {rangeProblem ? (
        <p className="form-error" role="alert">
          {rangeProblem}
        </p>
      ) : null}
      {error && !data ? <LoadError error={error} what="the history" /> : null}
      {!data && loading ? <Loading what="the history" /> : null}
      <div data-testid="history-results" aria-busy={stale} data-query={stale ? undefined : key} className="results">
      {data && !stale && data.items.length === 0 ? <Empty>{hasFilters(filters) ? 'No backup matches these filters.' : 'No backup yet.'}</Empty> : null}
      {data && data.items.length > 0 ? (
        <div className="table-wrap">
          <table className={`table responsive${stale ? ' table-stale' : ''}`} data-testid="history-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Status</th>
                <th scope="col">Source</th>
                <th scope="col" className="num">
                  Size
                </th>
                <th scope="col" className="num">
                  Duration
                </th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span className="visually-hidden">Details</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((b) => (
                <tr key={b.id} data-testid="history-row" data-name={b.name} data-status={b.status}>
                  <td data-label="Name" className="cell-name">
                    {b.name}
                  </td>
                  <td data-label="Type">
                    <TypeBadge type={b.type} />
                  </td>
                  <td data-label="Status">
                    <StatusBadge status={b.status} deleted={Boolean(b.deletedAt)} />
                  </td>
                  <td data-label="Source">{b.sourceName}</td>
                  <td data-label="Size" className="num">
                    {b.status === 'running' ? formatBytes(b.progressBytes) : formatBytes(b.sizeBytes)}
                  </td>
                  <td data-label="Duration" className="num">
                    {formatDuration(b.durationMs)}
                  </td>
                  <td data-label="Created">{formatDateTime(b.createdAt)}</td>
                  <td className="cell-actions">
                    <Button small onClick={() => openDetails(b.id)} aria-label={`Details of ${b.name}`}>
                      Details
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      </div>
      {data ? <Pagination page={filters.page} pageSize={PAGE_SIZE} total={data.total} onPage={(page) => update({ page })} /> : null}
      {id ? <BackupDetailsDialog id={id} onClose={closeDetails} onChanged={reload} /> : null}
    </section>
  );
}
