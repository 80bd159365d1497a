-- AlterTable
ALTER TABLE "Source" ADD COLUMN     "excludeDatabases" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "includeDatabases" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "scope" TEXT NOT NULL DEFAULT 'database';

-- AlterTable
ALTER TABLE "Restore" ADD COLUMN     "sourceDatabase" TEXT;
