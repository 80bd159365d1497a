-- Database restores: how many rows pg_restore has loaded so far, so that a long load shows how far it
-- is (it read the artifact in a tenth of the time, and showed 99 % for the rest). Null on every existing row.
ALTER TABLE "Restore" ADD COLUMN "loadedRows" BIGINT;
