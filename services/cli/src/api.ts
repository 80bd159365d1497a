// The HTTP API as the CLI uses it: calls by route name, typed by the contract (`api.call('backups.list',
// { query })`), JSON in and out, the API's {"error":{"code","message"}} turned into a CliError with the
// exit code of its status, and streamed downloads.
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { requestOf, type ApiRequest, type CallArguments, type CallInput, type CallOutput, type RouteName, type TypedClient } from '@coffre/contract';
import { CliError, exitCodeForStatus } from './exit-codes.js';
import type { ConnectionSettings } from './settings.js';

export interface ApiErrorBody {
  error?: { code?: string; message?: string };
}

export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message, exitCodeForStatus(status));
    this.name = 'ApiError';
  }
}

export interface Download {
  body: Readable;
  sizeBytes: number | null;
  checksumSha256: string | null;
  fileName: string | null;
  /** The destination the copy came from, when the API says. */
  destination: string | null;
}

export class ApiClient implements TypedClient {
  constructor(private readonly settings: ConnectionSettings) {}

  get baseUrl(): string {
    return this.settings.url;
  }

  async call<K extends RouteName>(name: K, ...[input]: CallArguments<K>): Promise<CallOutput<K>> {
    const request = requestOf(name, (input ?? {}) as CallInput<K>);
    const response = await this.send(request);
    if (!response.ok) throw await errorOf(response);
    if (response.status === 204) return undefined as CallOutput<K>;
    const text = await response.text();
    try {
      return (text ? JSON.parse(text) : undefined) as CallOutput<K>;
    } catch {
      throw new CliError(`${this.settings.url} answered ${request.method} ${request.path} with something other than JSON: is COFFRE_URL the coffre API?`);
    }
  }

  async download(input: CallInput<'backups.download'>): Promise<Download> {
    const response = await this.send(requestOf('backups.download', input));
    if (!response.ok) throw await errorOf(response);
    if (!response.body) throw new CliError('The API answered without a body.');
    const length = response.headers.get('content-length');
    const disposition = response.headers.get('content-disposition') ?? '';
    return {
      body: Readable.fromWeb(response.body as WebReadableStream<Uint8Array>),
      sizeBytes: length === null ? null : Number(length),
      checksumSha256: response.headers.get('x-checksum-sha256'),
      fileName: /filename="([^"]+)"/.exec(disposition)?.[1] ?? null,
      destination: response.headers.get('x-coffre-destination'),
    };
  }

  /**
   * Streams a file as the raw body of an upload route (imports): the file is read as it is sent,
   * never held whole in memory.
   */
  async upload<K extends 'imports.create'>(name: K, input: CallInput<K>, body: Readable, sizeBytes: number): Promise<CallOutput<K>> {
    const request = requestOf(name, input);
    const response = await this.send(request, { body, sizeBytes });
    if (!response.ok) throw await errorOf(response);
    return (await response.json()) as CallOutput<K>;
  }

  private async send({ method, path, body }: ApiRequest, upload?: { body: Readable; sizeBytes: number }): Promise<Response> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.settings.token}`,
      Accept: 'application/json',
      // The API records backups requested here with trigger `cli`.
      'X-Coffre-Client': 'cli',
    };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (upload) {
      headers['Content-Type'] = 'application/octet-stream';
      headers['Content-Length'] = String(upload.sizeBytes);
    }
    try {
      const payload = upload ? (Readable.toWeb(upload.body) as unknown as ReadableStream) : body === undefined ? undefined : JSON.stringify(body);
      return await fetch(`${this.settings.url}${path}`, { method, headers, body: payload, ...(upload ? { duplex: 'half' } : {}) } as RequestInit);
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason = cause?.code ?? cause?.message ?? (error as Error).message;
      throw new CliError(`coffre's API at ${this.settings.url} cannot be reached (${reason}): is it running, and is COFFRE_URL right?`);
    }
  }
}

async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  let parsed: ApiErrorBody = {};
  try {
    parsed = JSON.parse(text) as ApiErrorBody;
  } catch {}
  const message = parsed.error?.message ?? `The API answered ${response.status} ${response.statusText}.`;
  const hint = response.status === 401 ? ' Check COFFRE_TOKEN (or run coffre login).' : '';
  return new ApiError(response.status, parsed.error?.code ?? String(response.status), `${message}${hint}`);
}
