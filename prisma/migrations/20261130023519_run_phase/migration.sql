-- AlterTable
ALTER TABLE "Backup" ADD COLUMN     "phase" TEXT;

-- AlterTable
ALTER TABLE "Restore" ADD COLUMN     "phase" TEXT;

-- AlterTable
ALTER TABLE "Verification" ADD COLUMN     "phase" TEXT;
