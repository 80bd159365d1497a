// Point-in-time recovery of one PostgreSQL source: its requirements (operators and admins), on and
// off (admins), why the WAL stream fails while it does, the recovery window as a timeline, and
// "Restore to a moment" (admins). The window is read again when backups change and every 5 s (new WAL
// moves its end without a live event); on demand, with every stored WAL object looked up (then only
// when backups change: that is slow).
import { useEffect, useState } from 'react';
import type { z } from 'zod';
import type { PitrStateView, pitrCheckSchema, SourceView as Source } from '@coffre/contract';
import { apiGet, apiSend } from '../../api/client';
import { useAuth } from '../../auth';
import { Button } from '../../components/Button';
import { Switch } from '../../components/Card';
import { DetailsDialog, Fact } from '../../components/DetailsDialog';
import { Time } from '../../components/Time';
import { useToast } from '../../components/Toasts';
import { useAction } from '../../hooks/useAction';
import { usePolling } from '../../hooks/usePolling';
import { formatBytes, formatCount } from '../../lib/format';
import { PitrRequirements } from './PitrRequirements';
import { PitrRestoreDialog } from './PitrRestoreDialog';
import { PitrStreamError } from './PitrStreamError';
import { PitrTimeline } from './PitrTimeline';

type PitrCheck = z.infer<typeof pitrCheckSchema>;

export function PitrDialog({ source, onClose }: { source: Source; onClose: () => void }) {
  const { can } = useAuth();
  const toast = useToast();
  const { busy, run } = useAction();
  const [restoring, setRestoring] = useState(false);
  // Once asked, every read looks each stored WAL object up (a deleted or truncated one breaks the window).
  const [checkStorage, setCheckStorage] = useState(false);
  const state = usePolling(
    (signal) => apiGet<PitrStateView>(`/api/sources/${source.id}/pitr${checkStorage ? '?checkStorage=true' : ''}`, signal),
    [source.id, checkStorage],
    ['backups', 'restores', 'sources'],
  );
  const operator = can('operator');
  const check = usePolling(() => (operator ? apiSend<PitrCheck>('POST', `/api/sources/${source.id}/pitr/check`) : Promise.resolve(undefined)), [source.id, operator], null);
  const { reload } = state;
  useEffect(() => {
    if (checkStorage) return;
    const timer = setInterval(() => void reload(), 5000);
    return () => clearInterval(timer);
  }, [reload, checkStorage]);

  const toggle = async (enabled: boolean) => {
    const outcome = await run('toggle', () => apiSend<PitrStateView>('PUT', `/api/sources/${source.id}/pitr`, { enabled }), `Point-in-time recovery of ${source.name} is ${enabled ? 'on' : 'off'}.`);
    if (outcome.ok) await Promise.all([reload(), check.reload()]);
  };

  return (
    <DetailsDialog what="point-in-time recovery" data={state.data} error={state.error} title={() => `Point-in-time recovery of ${source.name}`} onClose={onClose} busy={busy !== null}>
      {(pitr) => (
        <div className="pitr" data-testid="pitr-panel" data-enabled={String(pitr.enabled)}>
          {operator ? <PitrRequirements check={check.data} error={check.error} checking={check.loading} onCheck={() => void check.reload()} /> : null}
          <section aria-labelledby="pitr-state-title">
            <h3 id="pitr-state-title">Streaming</h3>
            <Switch checked={pitr.enabled} label={`Point-in-time recovery of ${source.name}`} readOnly={!can('admin')} disabled={busy === 'toggle'} onChange={() => void toggle(!pitr.enabled)}>
              {pitr.enabled ? 'On: the WAL is streamed into storage' : 'Off'}
            </Switch>
            <PitrStreamError error={pitr.streamError} />
            <dl className="facts">
              <Fact label="Replication slot">{pitr.slot ?? '—'}</Fact>
              <Fact label="Newest WAL stored">{pitr.lastWal ? <Time at={pitr.lastWal.receivedAt} seconds /> : 'None yet'}</Fact>
              <Fact label="WAL kept">
                {formatCount(pitr.window.walFiles)} files, {formatBytes(pitr.window.walBytes)}
              </Fact>
            </dl>
          </section>
          <section aria-labelledby="pitr-window-title">
            <div className="section-head">
              <h3 id="pitr-window-title">Recovery window</h3>
              <Button small busy={checkStorage && state.loading} onClick={() => (checkStorage ? void reload() : setCheckStorage(true))}>
                Check the stored WAL
              </Button>
            </div>
            <PitrTimeline window={pitr.window} newest={pitr.lastWal?.receivedAt ?? null} />
          </section>
          {can('admin') ? (
            <Button variant="primary" disabled={!pitr.window.earliest} onClick={() => setRestoring(true)}>
              Restore to a moment
            </Button>
          ) : null}
          {restoring ? (
            <PitrRestoreDialog
              source={source}
              window={pitr.window}
              onClose={() => setRestoring(false)}
              onQueued={(restore, into) => {
                setRestoring(false);
                toast.success(`The restore of ${source.name} to a moment into ${into} is queued.`, { to: `/restores/${restore.id}`, label: 'Follow it' });
              }}
            />
          ) : null}
        </div>
      )}
    </DetailsDialog>
  );
}
