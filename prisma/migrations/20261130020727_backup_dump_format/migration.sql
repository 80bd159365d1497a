-- AlterTable
ALTER TABLE "Backup" ADD COLUMN     "dumpFormat" TEXT NOT NULL DEFAULT 'custom';
