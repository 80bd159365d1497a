// What a schedule means, shown as it is typed: a cron expression in words, and the next 5 runs in
// the schedule's zone (and the viewer's when it differs), computed as the scheduler will.
import { nextRuns, type Schedule } from '@coffre/contract';
import { cronInWords } from '../lib/cron-words';
import { formatDateTime, sameOffset } from '../lib/format';

export function SchedulePreview({ schedule }: { schedule: Schedule }) {
  const runs = safeNextRuns(schedule);
  const words = schedule.kind === 'cron' && schedule.cron ? cronInWords(schedule.cron) : null;
  if (schedule.kind === 'manual') return null;
  const zone = schedule.timezone ?? 'UTC';
  return (
    <div className="schedule-preview-box" data-testid="schedule-preview" aria-live="polite">
      {words ? (
        <p className="muted small" data-testid="cron-words">
          {words}
        </p>
      ) : null}
      {runs.length > 0 ? (
        <>
          <span className="small">Next {runs.length} runs ({zone}):</span>
          <ol className="schedule-preview">
            {runs.map((run) => (
              <li key={run.toISOString()} data-testid="next-run-preview">
                <time dateTime={run.toISOString()}>{formatDateTime(run.toISOString(), zone)}</time>
                {sameOffset(run.toISOString(), zone) ? null : <span className="muted"> · {formatDateTime(run.toISOString())} for you</span>}
              </li>
            ))}
          </ol>
        </>
      ) : null}
    </div>
  );
}

function safeNextRuns(schedule: Schedule): Date[] {
  try {
    return nextRuns(schedule, new Date(), 5);
  } catch {
    return [];
  }
}
