// Importing a dump made elsewhere from the history page: a file dropped on the zone (or picked with
// its button) is sent as it is read (the browser streams a File body) to POST /api/imports, with the
// upload's progress; the API checks it and answers with the backup it became, or says why not.
import { useRef, useState, type DragEvent } from 'react';
import type { BackupView } from '@coffre/contract';
import { ApiError, csrfToken, onUnauthorizedResponse } from '../api/client';
import { useToast } from '../components/Toasts';
import { formatBytes } from '../lib/format';

interface Props {
  onImported: (backup: BackupView) => void;
}

export function ImportDropZone({ onImported }: Props) {
  const toast = useToast();
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const [progress, setProgress] = useState<{ name: string; sent: number; total: number } | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  const start = (file: File) => {
    setProblem(null);
    setProgress({ name: file.name, sent: 0, total: file.size });
    uploadDump(file, (sent) => setProgress({ name: file.name, sent, total: file.size })).then(
      (backup) => {
        setProgress(null);
        toast.success(`Imported ${file.name} as backup "${backup.name}".`);
        onImported(backup);
      },
      (error: Error) => {
        setProgress(null);
        setProblem(error.message);
      },
    );
  };

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setOver(false);
    const file = event.dataTransfer.files[0];
    if (file && !progress) start(file);
  };

  return (
    <div
      className={`import-drop${over ? ' import-drop-over' : ''}`}
      data-testid="import-drop"
      onDragOver={(event) => {
        event.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
    >
      {progress ? (
        <p role="status" aria-live="polite">
          {`Uploading ${progress.name}: ${formatBytes(progress.sent)} of ${formatBytes(progress.total)}; it is checked as it arrives.`}
          <progress max={progress.total || 1} value={progress.sent} aria-label={`Upload of ${progress.name}`} />
        </p>
      ) : (
        <p>
          Drop a dump made elsewhere here to import it (pg_dump custom, tar or plain SQL; .gz, .zst or .age), or{' '}
          <button type="button" className="link-button" onClick={() => input.current?.click()}>
            choose a file
          </button>
          .
        </p>
      )}
      <input
        ref={input}
        type="file"
        hidden
        aria-label="Dump file to import"
        data-testid="import-file"
        onChange={(event) => {
          const file = event.target.files?.[0];
          event.target.value = '';
          if (file) start(file);
        }}
      />
      {problem ? (
        <p className="form-error" role="alert">
          {problem}
        </p>
      ) : null}
    </div>
  );
}

/** XMLHttpRequest rather than fetch: it reports the upload's progress. */
function uploadDump(file: File, onProgress: (sent: number) => void): Promise<BackupView> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', `/api/imports?filename=${encodeURIComponent(file.name)}`);
    request.setRequestHeader('Content-Type', 'application/octet-stream');
    request.setRequestHeader('Accept', 'application/json');
    const csrf = csrfToken();
    if (csrf) request.setRequestHeader('X-CSRF-Token', csrf);
    request.upload.onprogress = (event) => onProgress(event.loaded);
    request.onerror = () => reject(new ApiError(0, 'network', 'The upload was interrupted: the coffre API cannot be reached.'));
    request.onload = () => {
      let body: { error?: { code?: string; message?: string } } & Partial<BackupView> = {};
      try {
        body = JSON.parse(request.responseText);
      } catch {}
      if (request.status === 401) onUnauthorizedResponse();
      if (request.status >= 200 && request.status < 300) resolve(body as BackupView);
      else reject(new ApiError(request.status, body.error?.code ?? 'error', body.error?.message ?? `The API answered ${request.status}.`));
    };
    request.send(file);
  });
}
