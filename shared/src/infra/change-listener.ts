// Listens to coffre_changes (the triggers of migration 20261130003755_change_notifications): every
// write to a table the web UI shows announces the table's name there, whichever process wrote it
// (an API, a worker, the CLI). One connection per listener; it reconnects after a failure and then
// says so (`onReconnect`), since changes made meanwhile were not heard.
import pg from 'pg';
import type { Logger } from './logger.js';

export interface ChangeListener {
  close(): Promise<void>;
}

export function listenForChanges(databaseUrl: string, logger: Logger, onTable: (table: string) => void, onReconnect: () => void): ChangeListener {
  let client: pg.Client | null = null;
  let closed = false;
  let retry: ReturnType<typeof setTimeout> | undefined;

  const connect = async (again: boolean) => {
    const next = new pg.Client({ connectionString: databaseUrl, application_name: 'coffre-changes' });
    next.on('notification', (message) => message.payload && onTable(message.payload));
    next.on('error', (error) => {
      logger.warn({ err: error.message }, 'the change listener lost its connection; it reconnects');
      void next.end().catch(() => {});
      if (client === next) client = null;
      schedule();
    });
    try {
      await next.connect();
      await next.query('LISTEN coffre_changes');
      if (closed) return void (await next.end().catch(() => {}));
      client = next;
      if (again) onReconnect();
    } catch (error) {
      logger.warn({ err: (error as Error).message }, 'the change listener cannot connect; it tries again');
      void next.end().catch(() => {});
      schedule();
    }
  };
  const schedule = () => {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      void connect(true);
    }, 2000);
  };
  void connect(false);

  return {
    async close() {
      closed = true;
      clearTimeout(retry);
      await client?.end().catch(() => {});
      client = null;
    },
  };
}
