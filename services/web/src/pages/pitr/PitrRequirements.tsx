// What point-in-time recovery needs from a source's server, each requirement with its sentence (what
// is so, and when not met, what to change), as POST /api/sources/:id/pitr/check says it.
import type { z } from 'zod';
import type { pitrCheckSchema } from '@coffre/contract';
import { Button } from '../../components/Button';
import { LoadError, Loading } from '../../components/States';

type PitrCheck = z.infer<typeof pitrCheckSchema>;

const names: Record<PitrCheck['requirements'][number]['name'], string> = {
  connection: 'Connection',
  wal_level: 'wal_level',
  replication_role: 'Replication role',
  stream_progress: 'Stream progress',
  wal_senders: 'WAL senders',
  replication_slots: 'Replication slots',
  pg_hba: 'pg_hba.conf',
  tools: 'Server tools',
};

interface Props {
  check: PitrCheck | undefined;
  error: Error | undefined;
  checking: boolean;
  onCheck: () => void;
}

export function PitrRequirements({ check, error, checking, onCheck }: Props) {
  return (
    <section aria-labelledby="pitr-requirements-title">
      <div className="section-head">
        <h3 id="pitr-requirements-title">Requirements</h3>
        <Button small busy={checking} onClick={onCheck}>
          Check the requirements again
        </Button>
      </div>
      {error && !check ? <LoadError error={error} what="the requirements" /> : null}
      {!check && !error ? <Loading what="the requirements" /> : null}
      {check ? (
        <ul className="plain-list requirements" data-testid="pitr-requirements" data-ok={String(check.ok)}>
          {check.requirements.map((r) => (
            <li key={r.name} className={r.ok ? 'success-text' : 'form-error'} data-testid="pitr-requirement" data-name={r.name} data-ok={String(r.ok)}>
              <span aria-hidden="true">{r.ok ? '✓ ' : '✗ '}</span>
              <strong>{names[r.name]}</strong>
              <span className="visually-hidden">{r.ok ? ' met' : ' not met'}</span>: {r.message}
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}
