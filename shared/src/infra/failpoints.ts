// Fault injection for the fault tests: when COFFRE_FAILPOINTS names a point ("name=ms,other=ms"),
// the process announces on stderr that it reached the point and pauses there for that many
// milliseconds, so that a test can kill it exactly inside a window that is otherwise too short to
// hit (between an artifact's fsync and its rename, before the completed status write). A test that
// runs the code in its own process may instead attach an action to a point (onFailpoint), which the
// run awaits there. Unset, a failpoint costs one map lookup.

const pauses = parseFailpoints(process.env.COFFRE_FAILPOINTS);
const actions = new Map<string, (detail?: string) => Promise<void> | void>();

/** Pauses at a named point when COFFRE_FAILPOINTS asks for it; `detail` says which object or row. */
export async function failpoint(name: string, detail?: string): Promise<void> {
  const action = actions.get(name);
  if (action) await action(detail);
  const pauseMs = pauses.get(name);
  if (pauseMs === undefined) return;
  process.stderr.write(`${JSON.stringify({ failpoint: name, detail: detail ?? null, pauseMs, pid: process.pid, at: Date.now() })}\n`);
  await new Promise((resolve) => setTimeout(resolve, pauseMs));
}

/** For tests in the same process: runs `action` whenever the point is reached, until the returned function is called. */
export function onFailpoint(name: string, action: (detail?: string) => Promise<void> | void): () => void {
  actions.set(name, action);
  return () => {
    if (actions.get(name) === action) actions.delete(name);
  };
}

export function parseFailpoints(spec: string | undefined): Map<string, number> {
  const points = new Map<string, number>();
  for (const entry of (spec ?? '').split(',')) {
    const match = /^\s*([\w.-]+)\s*=\s*(\d+)\s*$/.exec(entry);
    if (match) points.set(match[1]!, Number(match[2]));
  }
  return points;
}
