// A run's log as the row keeps it, each line's time (stored in UTC) shown in the viewer's zone with
// its label, the stored time in the line's <time> element.
import { formatLogTime } from '../lib/format';

const stamped = /^(\d{4}-\d{2}-\d{2}T[\d:.]+Z) (.*)$/;

export function RunLogText({ log, testId }: { log: string | null | undefined; testId: string }) {
  const text = log?.trim();
  return (
    <pre className="log" data-testid={testId} tabIndex={0}>
      {text
        ? text.split('\n').map((line, index) => {
            const parts = stamped.exec(line);
            return parts ? (
              <span key={index}>
                <time dateTime={parts[1]} title={parts[1]}>
                  {formatLogTime(parts[1]!)}
                </time>{' '}
                {parts[2]}
                {'\n'}
              </span>
            ) : (
              <span key={index}>
                {line}
                {'\n'}
              </span>
            );
          })
        : 'No log yet.'}
    </pre>
  );
}
