-- AlterEnum
ALTER TYPE "BackupType" ADD VALUE 'physical';

-- AlterTable
ALTER TABLE "Source" ADD COLUMN     "pitrEnabled" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN     "pitrSlot" TEXT;

-- AlterTable
ALTER TABLE "Backup" ADD COLUMN     "timeline" INTEGER,
ADD COLUMN     "walEndLsn" TEXT,
ADD COLUMN     "walStartLsn" TEXT;

-- AlterTable
ALTER TABLE "Restore" ADD COLUMN     "sourceDatabase" TEXT,
ADD COLUMN     "targetTime" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "WalFile" (
    "id" UUID NOT NULL,
    "sourceId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "timeline" INTEGER NOT NULL,
    "startLsn" TEXT NOT NULL,
    "endLsn" TEXT NOT NULL,
    "receivedAt" TIMESTAMPTZ(3) NOT NULL,
    "sizeBytes" BIGINT NOT NULL,
    "checksumSha256" TEXT NOT NULL,
    "compression" "Compression" NOT NULL,
    "encrypted" BOOLEAN NOT NULL,
    "key" TEXT NOT NULL,
    "destinationIds" TEXT[],
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deletedAt" TIMESTAMPTZ(3),

    CONSTRAINT "WalFile_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "WalFile_sourceId_timeline_startLsn_idx" ON "WalFile"("sourceId", "timeline", "startLsn");

-- CreateIndex
CREATE UNIQUE INDEX "WalFile_sourceId_name_key" ON "WalFile"("sourceId", "name");

-- AddForeignKey
ALTER TABLE "WalFile" ADD CONSTRAINT "WalFile_sourceId_fkey" FOREIGN KEY ("sourceId") REFERENCES "Source"("id") ON DELETE CASCADE ON UPDATE CASCADE;
