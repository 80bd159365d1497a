-- A configuration without its own encryption choice follows the installation: encrypted when
-- AGE_RECIPIENTS is set. Existing rows keep the value they hold (false may be a deliberate opt-out).
ALTER TABLE "BackupConfiguration" ALTER COLUMN "encrypt" DROP NOT NULL;
ALTER TABLE "BackupConfiguration" ALTER COLUMN "encrypt" DROP DEFAULT;
