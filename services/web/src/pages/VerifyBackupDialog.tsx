// "Verify a backup" from the verifications page: pick one of the newest completed backups that a
// verification can restore (not data-only, not deleted, not of a whole server: the API refuses those,
// and its sentence shows should one be picked all the same), and queue its verification.
import { useState } from 'react';
import { ApiError, apiSend } from '../api/client';
import type { BackupView as Backup, Page as ApiPage, SourceView as Source, VerificationView as Verification } from '@coffre/contract';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { Field } from '../components/Field';
import { useToast } from '../components/Toasts';
import { useApi } from '../hooks/usePolling';
import { formatDateTime } from '../lib/format';

export function VerifyBackupDialog({ onClose, onQueued }: { onClose: () => void; onQueued: (verification: Verification) => void }) {
  const toast = useToast();
  const { data } = useApi<ApiPage<Backup>>('/api/backups?status=completed&type=full,schema&pageSize=50', null);
  const sources = useApi<{ items: Source[] }>('/api/sources', null);
  const servers = new Set((sources.data?.items ?? []).filter((s) => s.scope === 'server').map((s) => s.id));
  const backups = sources.data || sources.error ? data?.items.filter((b) => !b.deletedAt && !(b.sourceId && servers.has(b.sourceId))) : undefined;
  const [picked, setPicked] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const backupId = picked || backups?.[0]?.id || '';

  const verify = async () => {
    const backup = backups?.find((b) => b.id === backupId);
    if (!backup) return;
    setBusy(true);
    setError(null);
    try {
      const verification = await apiSend<Verification>('POST', `/api/backups/${backup.id}/verify`);
      toast.success(`The verification of ${backup.name} is queued.`);
      onQueued(verification);
    } catch (failure) {
      const message = failure instanceof ApiError ? failure.message : `Verifying failed: ${(failure as Error).message}`;
      setError(message);
      toast.error(message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <ConfirmDialog title="Verify a backup" confirmLabel="Verify" busy={busy} disabled={!backupId} error={error} onConfirm={verify} onClose={onClose}>
      {backups && backups.length === 0 ? (
        <p>No completed backup to verify yet.</p>
      ) : (
        <Field label="Backup" id="verify-backup" hint="A worker restores it into a scratch database, compares every table's rows with what the backup recorded, then drops the scratch database.">
          <select id="verify-backup" value={backupId} onChange={(event) => setPicked(event.target.value)} disabled={!backups} data-autofocus>
            {(backups ?? []).map((b) => (
              <option key={b.id} value={b.id}>
                {b.name} ({b.sourceName}, {formatDateTime(b.completedAt)})
              </option>
            ))}
          </select>
        </Field>
      )}
    </ConfirmDialog>
  );
}
