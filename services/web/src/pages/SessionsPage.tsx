// The signed-in person's web UI sessions (every browser they logged in from), the current one marked,
// each with "End": a session left open on another computer ends from here.
import { apiSend } from '../api/client';
import type { SessionView as UiSession } from '@coffre/contract';
import { Button } from '../components/Button';
import { LoadError, Loading } from '../components/States';
import { useAction } from '../hooks/useAction';
import { useApi } from '../hooks/usePolling';
import { formatDateTime, formatRelative } from '../lib/format';
import { TwoFactorPanel } from './TwoFactorPanel';

export function SessionsPage() {
  const { data, error, reload } = useApi<{ items: UiSession[] }>('/api/auth/sessions');
  const { busy, run } = useAction();

  const end = async (session: UiSession) => {
    await run(session.id, () => apiSend('DELETE', `/api/auth/sessions/${session.id}`), 'The session is ended.');
    await reload();
  };

  return (
    <section className="page">
      <header className="page-header">
        <h1>Your sessions</h1>
      </header>
      <TwoFactorPanel />
      <p className="muted">Every browser where you are logged in. A session opened with an API token ends when the token is revoked or expires.</p>
      {error && !data ? <LoadError error={error} what="your sessions" /> : null}
      {!data && !error ? <Loading what="sessions" /> : null}
      {data ? (
        <div className="table-wrap">
          <table className="table responsive" data-testid="sessions-table">
            <thead>
              <tr>
                <th scope="col">Browser</th>
                <th scope="col">From</th>
                <th scope="col">Opened</th>
                <th scope="col">Last seen</th>
                <th scope="col">Ends</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((s) => (
                <tr key={s.id} data-testid="session-row" data-current={s.current}>
                  <td data-label="Browser" className="cell-name">
                    {s.userAgent ?? 'Unknown'}
                    {s.current ? <span className="badge badge-inline">this one</span> : null}
                    {s.openedWith === 'token' ? <span className="badge badge-inline">API token</span> : null}
                  </td>
                  <td data-label="From" className="mono">
                    {s.ip ?? '—'}
                  </td>
                  <td data-label="Opened">{formatDateTime(s.createdAt)}</td>
                  <td data-label="Last seen">{formatRelative(s.lastSeenAt)}</td>
                  <td data-label="Ends">{formatDateTime(s.expiresAt)}</td>
                  <td className="cell-actions">
                    {s.current ? null : (
                      <Button small variant="danger" busy={busy === s.id} onClick={() => end(s)} aria-label={`End the session opened ${formatDateTime(s.createdAt)}`}>
                        End
                      </Button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
