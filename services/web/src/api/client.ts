// Every request the UI makes: same-origin, the session cookie goes by itself; every state change
// carries the CSRF token read from the coffre_csrf cookie. Errors become ApiError with the API's
// own sentence, so that a toast or a form can show it as it is.
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: { path: string; message: string }[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Listener = () => void;
const unauthorizedListeners = new Set<Listener>();

/** Called when any request answers 401 (the session expired or was ended elsewhere). */
export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

/** Tells the listeners that a request answered 401 (requests not made through this module, such as uploads). */
export function onUnauthorizedResponse(): void {
  for (const listener of unauthorizedListeners) listener();
}

export function csrfToken(): string | undefined {
  const match = /(?:^|;\s*)coffre_csrf=([^;]+)/.exec(document.cookie);
  return match ? decodeURIComponent(match[1]!) : undefined;
}

export function apiGet<T>(path: string, signal?: AbortSignal): Promise<T> {
  return request<T>('GET', path, undefined, signal);
}

export function apiSend<T = void>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
  return request<T>(method, path, body);
}

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') {
    const csrf = csrfToken();
    if (csrf) headers['X-CSRF-Token'] = csrf;
  }
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, 'network', 'The coffre API cannot be reached: check that it is running.');
  }
  if (response.status === 401 && !path.startsWith('/api/auth/login')) onUnauthorizedResponse();
  if (!response.ok) throw await errorOf(response);
  if (response.status === 204) return undefined as T;
  const type = response.headers.get('content-type') ?? '';
  return (type.includes('json') ? await response.json() : await response.text()) as T;
}

async function errorOf(response: Response): Promise<ApiError> {
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string; details?: unknown } };
    const details = Array.isArray(body.error?.details) ? (body.error.details as { path: string; message: string }[]) : [];
    return new ApiError(response.status, body.error?.code ?? 'error', body.error?.message ?? response.statusText, details);
  } catch {
    return new ApiError(response.status, 'error', `The API answered ${response.status} ${response.statusText}.`);
  }
}

/**
 * A query string from the set values of an object (undefined, null and empty strings left out), as
 * the contract's client builds it; written here so that the shell's chunk does not carry the
 * contract's schemas (zod), which only the forms need.
 */
export function queryString(query: Record<string, unknown>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, Array.isArray(value) ? value.join(',') : String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** Saves a resource of `collection`: PUT to its address when it exists (has an id), POST to the collection when it is new. */
export function saveResource<T>(collection: string, id: string | undefined, body: unknown): Promise<T> {
  return id ? apiSend<T>('PUT', `${collection}/${id}`, body) : apiSend<T>('POST', collection, body);
}
