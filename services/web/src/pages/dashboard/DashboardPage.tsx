// What an operator opens coffre for: is every database protected, and since when? A card per source
// (its status and the rule behind it, last success, next run, last 30 runs, size trend), the recent
// failures with a Retry button, then what runs now, what is late, the statistics and the charts. An
// empty installation is guided through its first steps instead of showing empty charts.
import { useEffect } from 'react';
import type { ProtectionSummary } from '@coffre/contract';
import { useApi } from '../../hooks/usePolling';
import { LoadError, Loading } from '../../components/States';
import { ProtectionCards } from './ProtectionCards';
import { RecentFailures } from './RecentFailures';
import { SetupGuide } from './SetupGuide';
import { DiskUsagePanel, HistoryCharts, OverdueConfigurations, RunningJobs, StatsWidget, WorkersAlive } from './widgets';

export function DashboardPage() {
  const summary = useApi<ProtectionSummary>('/api/dashboard/protection');
  const { data, error, reload } = summary;
  useRefreshAt(data?.refreshAt ?? null, reload);
  const setUp = data ? data.setup.sources > 0 && data.setup.backedUp : null;
  return (
    <section className="page">
      <header className="page-header">
        <h1>Dashboard</h1>
        <WorkersAlive />
      </header>
      {error && !data ? <LoadError error={error} what="the protection summary" /> : null}
      {!data && !error ? <Loading what="the protection summary" /> : null}
      {data && !setUp ? <SetupGuide setup={data.setup} onChanged={reload} /> : null}
      {data && data.sources.length > 0 ? <ProtectionCards sources={data.sources} onChanged={reload} /> : null}
      {data && data.failures.length > 0 ? <RecentFailures failures={data.failures} onChanged={reload} /> : null}
      <div className="grid-2">
        <RunningJobs />
        <OverdueConfigurations />
      </div>
      {setUp ? (
        <>
          <StatsWidget />
          <HistoryCharts />
        </>
      ) : null}
      <DiskUsagePanel />
    </section>
  );
}

/** Reads the summary again when a status changes by time alone (a schedule falls due), once. */
function useRefreshAt(at: string | null, reload: () => Promise<void>): void {
  useEffect(() => {
    if (!at) return;
    const wait = Math.max(1000, Date.parse(at) - Date.now() + 1000);
    // setTimeout holds at most 2^31 - 1 ms; a later change is reread when something else happens.
    if (wait > 2_147_000_000) return;
    const timer = setTimeout(() => void reload(), wait);
    return () => clearTimeout(timer);
  }, [at, reload]);
}
