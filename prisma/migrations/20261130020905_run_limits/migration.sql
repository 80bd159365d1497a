-- AlterTable
ALTER TABLE "BackupConfiguration" ADD COLUMN     "maxBackupBytes" BIGINT,
ADD COLUMN     "retentionMaxTotalBytes" BIGINT,
ADD COLUMN     "retentionMinKeep" INTEGER,
ADD COLUMN     "timeLimitSeconds" INTEGER;
