// The HTTP API as the CLI uses it: JSON in and out, the API's {"error":{"code","message"}} turned
// into a CliError with the exit code of its status, and streamed downloads.
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
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

export class ApiClient {
  constructor(private readonly settings: ConnectionSettings) {}

  get baseUrl(): string {
    return this.settings.url;
  }

  get<T>(path: string, query: Record<string, string | number | boolean | undefined> = {}): Promise<T> {
    return this.request<T>('GET', withQuery(path, query));
  }

  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
  }

  delete(path: string): Promise<void> {
    return this.request<void>('DELETE', path);
  }

  async download(path: string, query: Record<string, string>): Promise<Download> {
    const response = await this.send('GET', withQuery(path, query));
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

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.send(method, path, body);
    if (!response.ok) throw await errorOf(response);
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    try {
      return (text ? JSON.parse(text) : undefined) as T;
    } catch {
      throw new CliError(`${this.settings.url} answered ${method} ${path} with something other than JSON: is COFFRE_URL the coffre API?`);
    }
  }

  private async send(method: string, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.settings.token}`,
      Accept: 'application/json',
      // The API records backups requested here with trigger `cli`.
      'X-Coffre-Client': 'cli',
    };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    try {
      return await fetch(`${this.settings.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
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

function withQuery(path: string, query: Record<string, string | number | boolean | undefined>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== '') params.set(key, String(value));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

