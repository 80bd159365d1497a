-- AlterTable
ALTER TABLE "Restore" ADD COLUMN     "allowSystemDatabase" BOOLEAN NOT NULL DEFAULT false;

-- Sessions opened with a token before this migration do not know their token, so revoking it could
-- not end them: they end now (their users log in again).
DELETE FROM "Session" WHERE "userId" IS NULL;

-- AlterTable
ALTER TABLE "Session" ADD COLUMN     "ip" TEXT,
ADD COLUMN     "tokenId" UUID,
ADD COLUMN     "userAgent" TEXT;

-- CreateIndex
CREATE INDEX "Session_userId_idx" ON "Session"("userId");

-- CreateIndex
CREATE INDEX "Session_tokenId_idx" ON "Session"("tokenId");

-- AddForeignKey
ALTER TABLE "Session" ADD CONSTRAINT "Session_tokenId_fkey" FOREIGN KEY ("tokenId") REFERENCES "ApiToken"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The masked copy of a source URL showed its query (a ?password= among it) in clear: every value of
-- the query is masked now, as new sources are.
UPDATE "Source"
SET "urlMasked" = split_part("urlMasked", '?', 1) || '?' || regexp_replace(split_part(substr("urlMasked", strpos("urlMasked", '?') + 1), '#', 1), '=[^&]*', '=***', 'g')
WHERE kind = 'postgres' AND strpos("urlMasked", '?') > 0;
