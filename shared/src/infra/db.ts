// coffre's own database, through Prisma with the pg driver adapter.
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client.js';

export { Prisma, PrismaClient } from '../generated/prisma/client.js';
export type {
  Source,
  Destination,
  BackupConfiguration,
  Backup,
  BackupArtifact,
  Restore,
  Verification,
  User,
  ApiToken,
  Session,
  AuditEvent,
  NotificationChannel,
  NotificationDelivery,
  NotificationAttempt,
  WalFile,
} from '../generated/prisma/client.js';
export { RunStatus, Role, SourceKind, DestinationKind } from '../generated/prisma/enums.js';

export type Db = PrismaClient;

export function createDb(databaseUrl: string, options: { max?: number } = {}): Db {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: options.max ?? 10, application_name: 'coffre' });
  return new PrismaClient({ adapter });
}
