// A card per source: protected, at risk, failing or unprotected (the rule in a tooltip), the last
// successful backup, the next scheduled run in the schedule's zone, the last 30 runs, the size
// trend, the recovery window of a point-in-time source, and "Back up <source> now".
import { Link } from 'react-router';
import type { BackupView as Backup, SourceProtection } from '@coffre/contract';
import { apiSend } from '../../api/client';
import { useAuth } from '../../auth';
import { Button } from '../../components/Button';
import { Fact } from '../../components/DetailsDialog';
import { RunStrip, SizeTrend } from '../../components/RunStrip';
import { Time } from '../../components/Time';
import { Tooltip } from '../../components/Tooltip';
import { useAction } from '../../hooks/useAction';
import { formatBytes } from '../../lib/format';

const labels: Record<SourceProtection['status'], string> = { protected: 'protected', 'at-risk': 'at risk', failing: 'failing', unprotected: 'unprotected' };

export function ProtectionCards({ sources, onChanged }: { sources: SourceProtection[]; onChanged: () => Promise<void> }) {
  const { can } = useAuth();
  const { busy, run } = useAction();
  const backUp = async (source: SourceProtection) => {
    await run(source.sourceId, () => apiSend<Backup>('POST', '/api/backups', { sourceId: source.sourceId }), (backup) => `Backup ${backup.name} is queued.`);
    await onChanged();
  };
  return (
    <section aria-labelledby="protection-title" className="protection">
      <h2 id="protection-title" className="section-title">
        Protection
      </h2>
      <ul className="protection-cards" data-testid="protection">
        {sources.map((source) => (
          <li key={source.sourceId} className={`card protection-card protection-${source.status}`} data-testid="protection-card" data-name={source.sourceName} data-status={source.status}>
            <header className="card-header">
              <h3 className="card-title">
                <Link to={`/history?q=${encodeURIComponent(source.sourceName)}`} className="card-link">
                  {source.sourceName}
                </Link>
              </h3>
              <Tooltip label={labels[source.status]} className={`badge protection-badge protection-badge-${source.status}`} testId="protection-status">
                {source.rule}
              </Tooltip>
            </header>
            <dl className="facts">
              <Fact label="Last success" data-testid="last-success">
                {source.lastSuccess ? (
                  <Link to={`/history/${source.lastSuccess.id}`}>
                    <Time at={source.lastSuccess.completedAt} />
                  </Link>
                ) : (
                  'Never'
                )}
              </Fact>
              <Fact label="Next run" data-testid="next-run">
                {source.nextRun ? (
                  <Link to={`/configurations/${source.nextRun.configurationId}`}>
                    <Time at={source.nextRun.at} zone={source.nextRun.timezone} />
                  </Link>
                ) : (
                  'Nothing scheduled'
                )}
              </Fact>
              {source.lastSuccess?.sizeBytes ? <Fact label="Size">{formatBytes(source.lastSuccess.sizeBytes)}</Fact> : null}
              {source.recoveryWindow ? (
                <Fact label="Recovery window" data-testid="recovery-window">
                  <Time at={source.recoveryWindow.from} absoluteOnly /> → <Time at={source.recoveryWindow.to} />
                </Fact>
              ) : null}
            </dl>
            <RunStrip runs={source.runs} of={source.sourceName} />
            <SizeTrend runs={source.runs} of={source.sourceName} />
            {can('operator') ? (
              <footer className="card-actions">
                <span className="card-buttons">
                  <Button small variant="primary" busy={busy === source.sourceId} onClick={() => backUp(source)}>
                    Back up {source.sourceName} now
                  </Button>
                </span>
              </footer>
            ) : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
