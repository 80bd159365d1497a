// What the application functions receive: settings, coffre's database, the queues, a logger and the
// credential box. The API, the workers and the CLI each build one in their `main`.
import { readFile } from 'node:fs/promises';
import type { Config } from './config.js';
import type { Db } from './db.js';
import type { Logger } from './logger.js';
import type { JobQueues } from './jobs/queues.js';
import { createSecretBox, type SecretBox } from '../crypto/secret-box.js';
import { parseIdentityFile, parseRecipientList, type AgeIdentity } from '../crypto/age.js';
import { PermanentError } from './errors.js';
import { createEvents, type Events } from './events.js';

export interface AppContext {
  config: Config;
  db: Db;
  queues: JobQueues;
  logger: Logger;
  secrets: SecretBox;
  /** The age recipients new encrypted artifacts are encrypted to (AGE_RECIPIENTS). */
  recipients: string[];
  /** The age identities of AGE_IDENTITY_FILE, read when a restore or verification needs them. */
  identities(): Promise<AgeIdentity[]>;
  /** What happened, for whoever listens (notifications): see createAppContext in features/context.ts. */
  events: Events;
}

/** The context alone, with no listener: createAppContext (features/context.ts) adds the features' own. */
export function createBareContext(parts: { config: Config; db: Db; queues: JobQueues; logger: Logger }): AppContext {
  const { config } = parts;
  return {
    ...parts,
    events: createEvents((error, event) => parts.logger.warn({ err: error instanceof Error ? error.message : String(error), event }, 'an event listener failed')),
    secrets: createSecretBox(config.SECRET_KEY),
    recipients: config.AGE_RECIPIENTS ? parseRecipientList(config.AGE_RECIPIENTS) : [],
    async identities() {
      if (!config.AGE_IDENTITY_FILE) return [];
      let text: string;
      try {
        text = await readFile(config.AGE_IDENTITY_FILE, 'utf8');
      } catch (error) {
        throw new PermanentError(
          `AGE_IDENTITY_FILE ${config.AGE_IDENTITY_FILE} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}): encrypted artifacts cannot be decrypted.`,
        );
      }
      return parseIdentityFile(text);
    },
  };
}

/** Who did something: a user, an API token, or coffre itself. */
export interface Actor {
  type: 'user' | 'token' | 'system';
  id: string | null;
  name: string;
  role: 'admin' | 'operator' | 'viewer';
  ip?: string | null;
  userAgent?: string | null;
}

export const systemActor: Actor = { type: 'system', id: null, name: 'coffre', role: 'admin' };
