// Run as a process by config tests: loads the environment the way services' entry points do, and
// prints the settings that are safe to show when it is valid.
import { loadConfigOrExit } from '@coffre/shared';

const config = loadConfigOrExit();
process.stdout.write(`${JSON.stringify({ PORT: config.PORT, BACKUP_DIR: config.BACKUP_DIR })}\n`);
