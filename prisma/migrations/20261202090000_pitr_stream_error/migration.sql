-- Point-in-time recovery: why the WAL stream of a source last failed (a sentence with no secret in it:
-- a server refused for another history, a refused password, a connection refused …) and when, so that
-- the API, the web UI and the CLI show it. Cleared once the stream streams again, null on every existing row.
ALTER TABLE "Source" ADD COLUMN "pitrStreamError" TEXT;
ALTER TABLE "Source" ADD COLUMN "pitrStreamErrorAt" TIMESTAMPTZ(3);
