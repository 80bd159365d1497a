// Why the WAL stream of a source last failed, and when: until it streams again nothing more is
// stored, so the recovery window stops growing. The sentence is the worker's (a server refused for
// another history, a refused password …) and says what to change; the stream is retried meanwhile.
import type { PitrStateView } from '@coffre/contract';
import { Time } from '../../components/Time';

export function PitrStreamError({ error }: { error: PitrStateView['streamError'] }) {
  if (!error) return null;
  return (
    <p className="form-error" role="alert" data-testid="pitr-stream-error">
      <strong>The WAL stream failed</strong> <Time at={error.at} seconds />: <span data-testid="pitr-stream-error-message">{error.message}</span> Nothing more is
      stored until it streams again; it is retried.
    </p>
  );
}
