// Failed backups nothing has fixed since: each with its reason, a link to it and its
// configuration, and Retry (a new backup of the same source, configuration and type).
import { Link } from 'react-router';
import type { BackupView as Backup, RecentFailure } from '@coffre/contract';
import { apiSend } from '../../api/client';
import { useAuth } from '../../auth';
import { Button } from '../../components/Button';
import { Time } from '../../components/Time';
import { useAction } from '../../hooks/useAction';

export function RecentFailures({ failures, onChanged }: { failures: RecentFailure[]; onChanged: () => Promise<void> }) {
  const { can } = useAuth();
  const { busy, run } = useAction();
  const retry = async (failure: RecentFailure) => {
    await run(failure.id, () => apiSend<Backup>('POST', `/api/backups/${failure.id}/retry`), (backup) => `Backup ${backup.name} is queued (a retry of ${failure.name}).`);
    await onChanged();
  };
  return (
    <div className="panel" data-testid="recent-failures">
      <h2>Recent failures</h2>
      <ul className="plain-list failure-list">
        {failures.map((failure) => (
          <li key={failure.id} className="failure" data-testid="failure" data-name={failure.name}>
            <div className="failure-head">
              <Link to={`/history/${failure.id}`} className="break">
                {failure.name}
              </Link>
              <span className="muted small">
                <Time at={failure.createdAt} />
                {failure.configurationId ? (
                  <>
                    {' · '}
                    <Link to={`/configurations/${failure.configurationId}`}>{failure.configurationName}</Link>
                  </>
                ) : null}
              </span>
            </div>
            <p className="cell-error" data-testid="failure-reason">
              {failure.errorMessage ?? 'No reason was recorded.'}
            </p>
            {can('operator') && failure.sourceId ? (
              <Button small busy={busy === failure.id} aria-label={`Retry ${failure.name}`} onClick={() => retry(failure)}>
                Retry
              </Button>
            ) : null}
          </li>
        ))}
      </ul>
    </div>
  );
}
