-- AlterTable
ALTER TABLE "Verification" ADD COLUMN     "tableCounts" JSONB;
