-- Point-in-time recovery: the database system identifier of the cluster whose WAL a source has stored,
-- so that a source moved to a server of another cluster is refused rather than streamed into the same history.
-- Null (every existing row) until the stream next connects: it is then read from the server.
ALTER TABLE "Source" ADD COLUMN "pitrSystemId" TEXT;
