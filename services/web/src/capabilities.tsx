// Which routes this API has, read once from its OpenAPI document: pages for routes other issues
// add (destinations, system disk usage) appear when the API has them, without a 404 first.
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { apiGet } from './api/client';

type Method = 'get' | 'post' | 'put' | 'delete';

interface Capabilities {
  /** True or false once the document is read; undefined while it loads or when it could not be read. */
  has(method: Method, path: string): boolean | undefined;
  loaded: boolean;
}

const CapabilitiesContext = createContext<Capabilities>({ has: () => undefined, loaded: false });

export function CapabilitiesProvider({ children }: { children: ReactNode }) {
  const [paths, setPaths] = useState<Record<string, Record<string, unknown>> | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    const controller = new AbortController();
    apiGet<{ paths?: Record<string, Record<string, unknown>> }>('/api/openapi.json', controller.signal)
      .then((document) => setPaths(document.paths ?? {}))
      .catch((error: Error) => error.name !== 'AbortError' && setFailed(true));
    return () => controller.abort();
  }, []);
  const value: Capabilities = {
    loaded: paths !== null || failed,
    has: (method, path) => (paths ? Boolean(paths[path]?.[method]) : undefined),
  };
  return <CapabilitiesContext.Provider value={value}>{children}</CapabilitiesContext.Provider>;
}

export function useCapabilities(): Capabilities {
  return useContext(CapabilitiesContext);
}

/**
 * Whether to call an optional route: yes when the document lists it, or when the document could
 * not be read (the caller then hides its widget on a 404); no while the document loads.
 */
export function useOptionalRoute(method: Method, path: string): boolean {
  const { has, loaded } = useCapabilities();
  const listed = has(method, path);
  return listed ?? loaded;
}
