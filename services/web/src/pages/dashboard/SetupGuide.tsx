// An installation with nothing to show yet is guided through its first steps, in order: a source,
// a destination, a schedule, a first backup. Each step says whether it is done and links to where
// it is done.
import { Link } from 'react-router';
import type { ProtectionSummary } from '@coffre/contract';

type Setup = ProtectionSummary['setup'];

export function SetupGuide({ setup }: { setup: Setup; onChanged: () => Promise<void> }) {
  const steps = [
    { id: 'source', done: setup.sources > 0, title: 'Add a source', text: 'The database (or bucket) to back up.', to: '/sources', action: 'Go to sources' },
    { id: 'destination', done: setup.destinations > 0, title: 'Choose where backups go', text: 'The local backup directory is ready; add an S3 bucket for an off-site copy.', to: '/destinations', action: 'Go to destinations' },
    { id: 'schedule', done: setup.schedules > 0, title: 'Schedule backups', text: 'A configuration takes backups on a schedule and keeps what its retention says.', to: '/configurations', action: 'Go to configurations' },
    { id: 'backup', done: setup.backedUp, title: 'Take a first backup', text: 'Run a configuration now, or back up a source from its card below.', to: '/configurations', action: 'Run one now' },
  ];
  const next = steps.find((step) => !step.done);
  return (
    <div className="panel setup-guide" data-testid="setup-guide">
      <h2>Get started</h2>
      <p className="muted">Nothing is protected yet. Four steps, in order:</p>
      <ol className="setup-steps">
        {steps.map((step) => (
          <li key={step.id} className={`setup-step${step.done ? ' setup-step-done' : ''}${step === next ? ' setup-step-next' : ''}`} data-testid="setup-step" data-step={step.id} data-done={step.done}>
            <span className="setup-mark" aria-hidden="true">
              {step.done ? '✓' : ''}
            </span>
            <span className="setup-text">
              <strong>{step.title}</strong>
              <span className="visually-hidden">{step.done ? ' (done)' : ' (to do)'}</span>
              <span className="muted small">{step.text}</span>
            </span>
            {step === next ? (
              <Link className="button button-primary button-small" to={step.to}>
                {step.action}
              </Link>
            ) : null}
          </li>
        ))}
      </ol>
    </div>
  );
}
