// Operators name things as they see them: a source, configuration or backup by its name or its id.
import type { BackupView, ConfigurationDetails, DestinationView, SourceView } from '@coffre/contract';
import type { ApiClient } from './api.js';
import { CliError, ExitCode } from './exit-codes.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(text: string): boolean {
  return UUID.test(text);
}

export async function resolveSource(api: ApiClient, nameOrId: string): Promise<SourceView> {
  const { items } = await api.call('sources.list');
  const found = items.find((s) => s.id === nameOrId) ?? items.find((s) => s.name === nameOrId);
  if (!found) {
    const known = items.map((s) => s.name).join(', ') || 'none yet';
    throw new CliError(`There is no source "${nameOrId}" (sources: ${known}).`, ExitCode.notFound);
  }
  return found;
}

export async function resolveDestination(api: ApiClient, nameOrId: string): Promise<DestinationView> {
  const { items } = await api.call('destinations.list');
  const found = items.find((d) => d.id === nameOrId) ?? items.find((d) => d.name === nameOrId);
  if (!found) {
    const known = items.map((d) => d.name).join(', ') || 'none yet';
    throw new CliError(`There is no destination "${nameOrId}" (destinations: ${known}).`, ExitCode.notFound);
  }
  return found;
}

export async function resolveConfiguration(api: ApiClient, nameOrId: string): Promise<ConfigurationDetails> {
  if (isUuid(nameOrId)) return api.call('configurations.get', { params: { id: nameOrId } });
  const { items } = await api.call('configurations.list');
  const found = items.find((c) => c.name === nameOrId);
  if (!found) throw new CliError(`There is no configuration "${nameOrId}" (list them with coffre config list).`, ExitCode.notFound);
  return found;
}

/** A backup by id, or by its exact name (names are what the restore confirmation asks for). */
export async function resolveBackup(api: ApiClient, nameOrId: string): Promise<BackupView> {
  if (isUuid(nameOrId)) return api.call('backups.get', { params: { id: nameOrId } });
  const { items } = await api.call('backups.list', { query: { q: nameOrId, includeDeleted: 'true', pageSize: 100 } });
  const matches = items.filter((b) => b.name === nameOrId);
  if (matches.length === 0) throw new CliError(`There is no backup "${nameOrId}" (list them with coffre backup list).`, ExitCode.notFound);
  if (matches.length > 1) throw new CliError(`${matches.length} backups are named "${nameOrId}": give the id instead (coffre backup list --search "${nameOrId}").`, ExitCode.usage);
  return api.call('backups.get', { params: { id: matches[0]!.id } });
}
