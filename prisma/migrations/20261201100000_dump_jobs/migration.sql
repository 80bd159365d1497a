-- Parallel dumps (pg_dump --format=directory --jobs N): how many jobs a configuration, and each
-- backup, asks for. 1 (every existing row) is the custom format, as before.
ALTER TABLE "BackupConfiguration" ADD COLUMN "dumpJobs" INTEGER NOT NULL DEFAULT 1;
ALTER TABLE "Backup" ADD COLUMN "dumpJobs" INTEGER NOT NULL DEFAULT 1;
