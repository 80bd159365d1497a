// Who did what, when and from where (admins only; the API refuses the others too).
import { useEffect, useState } from 'react';
import { queryString } from '../api/client';
import type { AuditEvent, Page } from '../api/types';
import { Pagination } from '../components/Pagination';
import { Empty, LoadError, Loading } from '../components/States';
import { useApi } from '../hooks/usePolling';
import { formatDateTime } from '../lib/format';

const PAGE_SIZE = 50;

export function AuditPage() {
  const [page, setPage] = useState(1);
  const [action, setAction] = useState('');
  const [actor, setActor] = useState('');
  const [applied, setApplied] = useState({ action: '', actor: '' });
  useEffect(() => {
    const timer = setTimeout(() => {
      setApplied({ action: action.trim(), actor: actor.trim() });
      setPage(1);
    }, 300);
    return () => clearTimeout(timer);
  }, [action, actor]);
  const { data, error, stale } = useApi<Page<AuditEvent>>(`/api/audit${queryString({ page, pageSize: PAGE_SIZE, action: applied.action, actor: applied.actor })}`, 5000);

  return (
    <section className="page">
      <header className="page-header">
        <h1>Audit log</h1>
      </header>
      <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label className="field">
          <span>Action starts with</span>
          <input value={action} placeholder="backup." onChange={(e) => setAction(e.target.value)} />
        </label>
        <label className="field">
          <span>Actor</span>
          <input value={actor} placeholder="admin" onChange={(e) => setActor(e.target.value)} />
        </label>
      </form>
      {error && !data ? <LoadError error={error} what="the audit log" /> : null}
      {!data && !error ? <Loading what="the audit log" /> : null}
      {data && data.items.length === 0 ? <Empty>No event matches.</Empty> : null}
      {data && data.items.length > 0 ? (
        <div className="table-wrap">
          <table className={`table responsive${stale ? ' table-stale' : ''}`} data-testid="audit-table" aria-busy={stale}>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Outcome</th>
                <th scope="col">From</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((e) => (
                <tr key={e.id}>
                  <td data-label="When" className="nowrap">
                    {formatDateTime(e.at)}
                  </td>
                  <td data-label="Who">
                    {e.actorName} <span className="muted small">({e.actorType})</span>
                  </td>
                  <td data-label="Action" className="mono">
                    {e.action}
                  </td>
                  <td data-label="Target" className="break">
                    {e.targetType ? (
                      <>
                        {e.targetType} <span className="mono small muted" title={e.targetId ?? ''}>{e.targetId ? `…${e.targetId.slice(-8)}` : ''}</span>
                      </>
                    ) : (
                      '—'
                    )}
                    {summaryText(e.summary) ? <span className="muted small block">{summaryText(e.summary)}</span> : null}
                  </td>
                  <td data-label="Outcome">
                    <span className={`badge ${e.outcome === 'success' ? 'status-completed' : 'status-failed'}`}>{e.outcome}</span>
                  </td>
                  <td data-label="From">{e.ip ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {data ? <Pagination page={page} pageSize={PAGE_SIZE} total={data.total} onPage={setPage} /> : null}
    </section>
  );
}

function summaryText(summary: unknown): string {
  if (!summary || typeof summary !== 'object') return '';
  const after = (summary as { after?: Record<string, unknown> }).after;
  const source = after && typeof after === 'object' ? after : (summary as Record<string, unknown>);
  const name = source.name;
  return typeof name === 'string' ? name : '';
}
