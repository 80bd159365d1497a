// What coffre lets an rclone configuration do: checked when a destination is saved, and again each
// time a worker or the API builds its driver (a destination saved before a rule existed is held to it).
import { ValidationError } from '../../infra/errors.js';
import { checkOutboundHost, checkOutboundUrl } from '../../infra/outbound.js';

/** Backends that keep files elsewhere, over the network: every other one is refused. */
const REMOTE_BACKENDS = new Set([
  'acd', 'azureblob', 'b2', 'box', 'drive', 'dropbox', 'fichier', 'filefabric', 'ftp', 'gcs', 'gphotos', 'hidrive', 'internetarchive', 'jottacloud', 'koofr',
  'mailru', 'netstorage', 'onedrive', 'opendrive', 'oracleobjectstorage', 'pcloud', 'premiumizeme', 'putio', 'qingstor', 's3', 'seafile', 'sftp', 'sharefile',
  'sia', 'smb', 'storj', 'sugarsync', 'swift', 'tardigrade', 'uptobox', 'webdav', 'yandex', 'zoho', 'hdfs', 'pikpak', 'quatrix', 'linkbox', 'protondrive',
]);
/** Backends over another remote of the same configuration (its `remote = <name>:<path>`). */
const WRAPPER_BACKENDS = new Set(['crypt', 'compress', 'chunker', 'hasher']);
/** Commands sftp runs on the remote server, through its SSH session: nothing runs here. */
const REMOTE_SIDE_COMMANDS = new Set(['md5sum_command', 'sha1sum_command', 'server_command']);

/**
 * What coffre lets rclone do on its behalf: reach a storage over the network, nothing on the machine
 * that runs it. The remote must be a section of the configuration; every section a backend of
 * REMOTE_BACKENDS (local, alias, union, combine, cache and memory would write on this machine), or a
 * wrapper over another section; no setting may run a program here (bearer_token_command, ssh…), name a
 * local file (key_file, service_account_file…: paste the content, key_pem, service_account_credentials)
 * or take the machine's own cloud credentials (env_auth); the hosts and URLs must be places coffre may
 * connect to.
 */
export function checkRcloneConfig(text: string, remote: string): void {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | null = null;
  const refuse = (line: number, why: string) => {
    throw new ValidationError(`rcloneConfig: line ${line} ${why}`, [{ path: 'rcloneConfig', message: `line ${line}: ${why}` }]);
  };
  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      const name = section[1]!.trim();
      // rclone reads "name,key=value:" as the remote with a setting changed: a name is a plain word.
      if (!/^[A-Za-z0-9_][A-Za-z0-9_.+@-]{0,63}$/.test(name)) refuse(index + 1, `names a remote "${name}" that is not a plain name (letters, digits, _ . + @ -).`);
      if (sections.has(name)) refuse(index + 1, `names the remote "${name}" a second time.`);
      current = new Map();
      sections.set(name, current);
      continue;
    }
    const setting = /^([A-Za-z0-9_-]+)\s*=\s*(.*)$/.exec(line);
    if (!setting) refuse(index + 1, 'is neither a [section] nor a key = value setting.');
    if (!current) refuse(index + 1, 'is a setting before any [section].');
    const key = setting![1]!.toLowerCase();
    const value = setting![2]!.trim();
    if ((key.endsWith('_command') && !REMOTE_SIDE_COMMANDS.has(key)) || key === 'ssh') refuse(index + 1, `sets ${key}, which runs a program on coffre's machine: not allowed.`);
    if (key.endsWith('_file') || key.endsWith('_path')) refuse(index + 1, `sets ${key}, which names a file on coffre's machine: paste its content in the setting made for it instead (key_pem, service_account_credentials…).`);
    if (key === 'env_auth' && /^(true|1|yes)$/i.test(value)) refuse(index + 1, "sets env_auth, which takes the credentials of coffre's machine: give the remote its own.");
    if (/^(url|endpoint)$/.test(key) && /^https?:\/\//i.test(value)) checkOutboundUrl(value, 'rcloneConfig');
    if (key === 'host' && value) checkOutboundHost(value, 'rcloneConfig');
    current!.set(key, value);
  }
  for (const [name, settings] of sections) {
    const type = settings.get('type') ?? '';
    if (WRAPPER_BACKENDS.has(type)) {
      // Over another remote of this configuration, by its plain name: never a path here, nor an inline remote.
      const inner = /^([A-Za-z0-9_][A-Za-z0-9_.+@-]{0,63}):/.exec(settings.get('remote') ?? '');
      if (!inner || !sections.has(inner[1]!) || inner[1] === name) {
        throw new ValidationError(`rcloneConfig: remote "${name}" (${type}) must be over another remote of this configuration: remote = <name>:<path>.`, [{ path: 'rcloneConfig', message: `[${name}] remote must be <name>:<path>` }]);
      }
    } else if (!REMOTE_BACKENDS.has(type)) {
      throw new ValidationError(
        `rcloneConfig: remote "${name}" has type "${type || 'none'}", which coffre does not use: only storages reached over the network (s3, sftp, webdav, drive…) and crypt, compress, chunker or hasher over them; a local directory is a destination of kind local.`,
        [{ path: 'rcloneConfig', message: `[${name}] type ${type || 'none'} is not allowed` }],
      );
    }
  }
  if (!sections.has(remote)) {
    const known = [...sections.keys()].join(', ') || 'none';
    throw new ValidationError(`remote: the rclone configuration has no remote named "${remote}" (it has ${known}).`, [{ path: 'remote', message: `no [${remote}] section in rcloneConfig` }]);
  }
}
