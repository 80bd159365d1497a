// One handler per job of the catalog, each declared by the feature that owns the job
// (shared/src/features/<feature>/jobs.ts for the job, its handler beside the code it calls).
import {
  backupHandlers,
  configurationHandlers,
  maintenanceHandlers,
  notificationHandlers,
  pitrHandlers,
  restoreHandlers,
  verificationHandlers,
  type JobHandlers,
} from '@coffre/shared';

export const handlers: JobHandlers = {
  ...backupHandlers,
  ...configurationHandlers,
  ...restoreHandlers,
  ...verificationHandlers,
  ...maintenanceHandlers,
  ...notificationHandlers,
  ...pitrHandlers,
};
