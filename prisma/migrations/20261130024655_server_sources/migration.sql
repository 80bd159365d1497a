-- AlterTable
ALTER TABLE "Source" ADD COLUMN     "excludeDatabases" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "includeDatabases" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "scope" TEXT NOT NULL DEFAULT 'database';

-- AlterTable
-- The point-in-time recovery migration (20261130020746_pitr) adds the same column, with the same meaning:
-- which database of the backup a restore reads.
ALTER TABLE "Restore" ADD COLUMN IF NOT EXISTS "sourceDatabase" TEXT;
