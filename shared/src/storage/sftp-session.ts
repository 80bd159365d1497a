// One SSH connection with its SFTP channel, for one operation of the SFTP destination: the server's
// host key is checked against the pinned fingerprint (or pinned on first use) before any credential
// is sent, and every failure becomes a sentence an operator can act on, never with a secret in it.
import { createHash } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { Client, type ConnectConfig, type OpenMode, type SFTPWrapper, type Stats } from 'ssh2';
import { NotFoundError, PermanentError } from '../infra/errors.js';
import { forbiddenAddressReason, forbiddenHostReason, OutboundRefusedError } from '../infra/outbound.js';

export interface SftpServer {
  host: string;
  port: number;
  username: string;
  password?: string;
  privateKey?: string;
  passphrase?: string;
  /** The host key expected (SHA256:… as ssh-keygen -lf prints it), or null to pin the first one met. */
  hostKeySha256: string | null;
  /**
   * Records the fingerprint met on first use; resolves with the fingerprint pinned from now on
   * (another process may have pinned one first).
   */
  pinHostKey?: (fingerprint: string) => Promise<string>;
  /** How long the connection and login may take (default 20 s). */
  readyTimeoutMs?: number;
}

export interface SftpSession {
  sftp: SFTPWrapper;
  /** The channel's calls as promises; each fails at once when the connection is lost. */
  calls: SftpCalls;
  /** Closes the connection; safe to call more than once. */
  close(): void;
  /** The error that ended the connection, when it ended by itself (the server went away). */
  lost(): Error | null;
}

/** The fingerprint of a host key as OpenSSH prints it: SHA256:<base64 without padding>. */
export function hostKeyFingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

export function serverLabel(server: Pick<SftpServer, 'host' | 'port' | 'username'>): string {
  const host = server.host.includes(':') && !server.host.startsWith('[') ? `[${server.host}]` : server.host;
  return `sftp://${server.username}@${host}:${server.port}`;
}

export async function openSftpSession(server: SftpServer): Promise<SftpSession> {
  const address = await allowedAddress(server.host);
  const client = new Client();
  let keyProblem: Error | null = null;
  let lostWith: Error | null = null;
  let ready = false;
  // ssh2 leaves a request made after the connection closed waiting for ever: every call races this.
  let markLost: (error: Error) => void = () => {};
  const lost = new Promise<never>((_, reject) => {
    markLost = (error) => {
      lostWith ??= error;
      reject(lostWith);
    };
  });
  lost.catch(() => {});
  const config: ConnectConfig = {
    host: address,
    port: server.port,
    username: server.username,
    password: server.password,
    privateKey: server.privateKey,
    passphrase: server.passphrase,
    readyTimeout: server.readyTimeoutMs ?? 20_000,
    // A server that stops answering (its machine lost, a cable pulled) is noticed within 30 s.
    keepaliveInterval: 10_000,
    keepaliveCountMax: 3,
    tryKeyboard: false,
    hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
      checkHostKey(server, hostKeyFingerprint(key)).then(
        () => verify(true),
        (error: unknown) => {
          keyProblem = error as Error;
          verify(false);
        },
      );
    },
  };
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => {
      ready = true;
      resolve();
    });
    client.on('error', (error) => {
      if (!ready) reject(keyProblem ?? error);
      else markLost(error);
    });
    client.on('close', () => {
      if (!ready) reject(keyProblem ?? new Error('The connection was closed before the login finished.'));
      else markLost(Object.assign(new Error('The connection to the server was closed.'), { code: 'ECONNRESET' }));
    });
    client.connect(config);
  }).catch((error: unknown) => {
    client.end();
    throw describeSftpError(error, server, 'connecting');
  });
  const sftp = await new Promise<SFTPWrapper>((resolve, reject) => client.sftp((error, channel) => (error ? reject(error) : resolve(channel)))).catch((error: unknown) => {
    client.end();
    throw describeSftpError(error, server, 'opening the SFTP channel (is the SFTP subsystem enabled on the server?)');
  });
  sftp.on('close', () => markLost(Object.assign(new Error('The SFTP channel was closed by the server.'), { code: 'ECONNRESET' })));
  return {
    sftp,
    calls: sftpCalls(sftp, lost),
    close: () => client.end(),
    lost: () => lostWith,
  };
}

async function checkHostKey(server: SftpServer, fingerprint: string): Promise<void> {
  let pinned = server.hostKeySha256;
  if (!pinned) {
    if (!server.pinHostKey) throw new PermanentError(`No host key is pinned for ${serverLabel(server)} and none may be pinned now.`, 'host-key');
    pinned = await server.pinHostKey(fingerprint);
    server.hostKeySha256 = pinned;
  }
  if (pinned !== fingerprint) {
    throw new PermanentError(
      `The SSH host key of ${serverLabel(server)} has changed (it presents ${fingerprint}, the destination pinned ${pinned}): ` +
        'coffre refused to connect, as someone may be impersonating the server. If the server was reinstalled or its key replaced on purpose, ' +
        "set the destination's hostKeySha256 to the new fingerprint (or to null to pin the next one met).",
      'host-key-changed',
    );
  }
}

/** The address to connect to, after checking that neither the name nor what it resolves to is forbidden. */
async function allowedAddress(host: string): Promise<string> {
  const plain = host.replace(/^\[|\]$/g, '');
  const refused = forbiddenHostReason(plain);
  if (refused) throw new OutboundRefusedError(host, null, refused);
  const resolved = await lookup(plain).catch(() => null);
  if (!resolved) throw new Error(`The SFTP server's host name ${host} does not resolve: check the destination's host.`);
  const reason = forbiddenAddressReason(resolved.address);
  if (reason) throw new OutboundRefusedError(host, resolved.address, reason);
  return resolved.address;
}

const UNREACHABLE = ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED'];

/** SFTP status codes (draft-ietf-secsh-filexfer-02). */
export const SFTP_NO_SUCH_FILE = 2;
const SFTP_PERMISSION_DENIED = 3;

/** Turns an ssh2 or SFTP error into a sentence naming the server and what was being done. */
export function describeSftpError(error: unknown, server: SftpServer, action: string): Error {
  if (error instanceof PermanentError || error instanceof NotFoundError || error instanceof OutboundRefusedError) return error;
  const where = serverLabel(server);
  const e = error as { code?: unknown; level?: string; message?: string };
  if (e.level === 'client-authentication') {
    return new PermanentError(
      `The SFTP server ${where} refused the login of user "${server.username}" (${action}): check the destination's ${server.privateKey ? 'private key (and its passphrase)' : 'password'} and that the user may log in.`,
      'access-denied',
    );
  }
  if (e.level === 'client-timeout') return new Error(`The SFTP server ${where} did not answer within ${(server.readyTimeoutMs ?? 20_000) / 1000} s while ${action}: check the host, the port and that the server is up.`);
  if (e.code === SFTP_PERMISSION_DENIED) return new PermanentError(`The SFTP server ${where} denied permission while ${action}: give user "${server.username}" the right to read and write there.`, 'access-denied');
  if (e.code === SFTP_NO_SUCH_FILE) return new Error(`The SFTP server ${where} has no such file or folder (${action}): check the destination's remotePath.`);
  if (typeof e.code === 'string' && UNREACHABLE.includes(e.code)) {
    return new Error(`The SFTP server ${where} could not be reached or went away (${e.code}) while ${action}: check the host, the port and that the server is up.`, { cause: error });
  }
  if (/Private key|privateKey|Cannot parse privateKey|encrypted/i.test(e.message ?? '')) {
    return new PermanentError(`The destination's private key for ${where} cannot be used: ${(e.message ?? '').replace(/\.$/, '')}. Give an OpenSSH or PEM private key (and its passphrase when it has one).`, 'bad-key');
  }
  if (/No response from server|Not connected|closed/i.test(e.message ?? '')) {
    return new Error(`The connection to the SFTP server ${where} was lost while ${action}: the server went away or the network failed.`, { cause: error });
  }
  return new Error(`SFTP failed while ${action} on ${where}: ${e.message ?? String(error)}`, { cause: error });
}

/** ssh2's callbacks as promises, on one channel. */
function sftpCalls(sftp: SFTPWrapper, lost: Promise<never>) {
  const call = <T>(run: (callback: (error: Error | null | undefined, value?: T) => void) => void) =>
    Promise.race([new Promise<T>((resolve, reject) => run((error, value) => (error ? reject(error) : resolve(value as T)))), lost]);
  return {
    stat: (path: string) => call<Stats>((cb) => sftp.stat(path, cb)),
    readdir: (path: string) => call<{ filename: string; attrs: Stats }[]>((cb) => sftp.readdir(path, cb)),
    mkdir: (path: string) => call<void>((cb) => sftp.mkdir(path, { mode: 0o750 }, cb)),
    rmdir: (path: string) => call<void>((cb) => sftp.rmdir(path, cb)),
    unlink: (path: string) => call<void>((cb) => sftp.unlink(path, cb)),
    open: (path: string, flags: OpenMode) => call<Buffer>((cb) => sftp.open(path, flags, { mode: 0o640 }, cb)),
    fstat: (handle: Buffer) => call<Stats>((cb) => sftp.fstat(handle, cb)),
    /** Reads up to `length` bytes at `position`: fewer only at the end of the file. */
    read: (handle: Buffer, length: number, position: number) =>
      call<Buffer>((cb) => sftp.read(handle, Buffer.allocUnsafe(length), 0, length, position, (error, bytesRead, buffer) => cb(error, buffer?.subarray(0, bytesRead)))),
    write: (handle: Buffer, data: Buffer, position: number) => call<void>((cb) => sftp.write(handle, data, 0, data.length, position, cb)),
    close: (handle: Buffer) => call<void>((cb) => sftp.close(handle, cb)),
    fsync: (handle: Buffer) => call<void>((cb) => sftp.ext_openssh_fsync(handle, cb)),
    // posix-rename@openssh.com replaces the target in one step; plain SFTP rename refuses an existing one.
    rename: (from: string, to: string) => call<void>((cb) => sftp.ext_openssh_rename(from, to, cb)),
  };
}

export type SftpCalls = ReturnType<typeof sftpCalls>;
