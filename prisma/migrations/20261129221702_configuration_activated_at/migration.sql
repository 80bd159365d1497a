-- When a configuration was last activated or rescheduled: overdue counts from here (or from its
-- creation) when no backup completed since.
ALTER TABLE "BackupConfiguration" ADD COLUMN "activatedAt" TIMESTAMPTZ(3);
