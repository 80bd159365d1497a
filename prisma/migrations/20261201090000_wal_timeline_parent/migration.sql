-- A stored timeline history file records the timeline it branched off from (its startLsn and endLsn
-- hold the LSN where it did): the recovery window follows the WAL across a promotion with it.
ALTER TABLE "WalFile" ADD COLUMN IF NOT EXISTS "parentTimeline" INTEGER;
