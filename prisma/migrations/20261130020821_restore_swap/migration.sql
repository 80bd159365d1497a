-- AlterTable
ALTER TABLE "Restore" ADD COLUMN     "keptDatabase" TEXT,
ADD COLUMN     "keptDroppedAt" TIMESTAMPTZ(3),
ADD COLUMN     "loadDatabase" TEXT,
ADD COLUMN     "method" TEXT,
ADD COLUMN     "swapMs" DOUBLE PRECISION,
ADD COLUMN     "undoneAt" TIMESTAMPTZ(3),
ADD COLUMN     "undoneBy" TEXT,
ADD COLUMN     "undoneDatabase" TEXT;
