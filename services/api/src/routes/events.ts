// The web UI's one live connection: server-sent events saying what changed ("backups",
// "restores"…), so that each page reads again what it shows instead of polling.
//
// A stream outlives the request that opened it, so it is held to what a request is held to while it
// lasts: every `recheckMs` the caller's token or session is checked again (the authentication of every
// request), and the stream ends as soon as it no longer passes (a revoked token, a logout, an ended
// session, a disabled or deleted user), or when the session or token expires. Streams are bounded: at
// most `perActor` open at once for one user or token (a 429 beyond), `total` for the whole API (a 503).
import { AppError, UnavailableError, changeFeed, roleAllows, routes, type Actor, type AppContext, type LiveChange } from '@coffre/shared';
import { identify } from '../http/auth.js';
import type { Api } from '../http/routes.js';

/** The live streams' timings and bounds (tests lower them). */
export const eventStreams = {
  /** A comment this often keeps proxies from closing an idle stream. */
  keepaliveMs: 25_000,
  /** How often an open stream checks its caller's token or session again. */
  recheckMs: 10_000,
  /** Streams open at once for one user or one token (a web session counts for the user or token that opened it). */
  perActor: 10,
  /** Streams open at once in this API process. */
  total: 1000,
};

/** A timer's longest delay (about 24.8 days); an expiry further away is left to the periodic check. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;
const RETRY_AFTER_SECONDS = '30';

export function eventRoutes(api: Api, ctx: AppContext): void {
  const openByActor = new Map<string, number>();
  let openInAll = 0;

  api.route('events.stream', (_input, { req, res, actor }) => {
    // Counted before anything is awaited, so that parallel opens cannot all slip under a bound.
    const key = actorKey(actor);
    const mine = openByActor.get(key) ?? 0;
    if (mine >= eventStreams.perActor) {
      res.set('Retry-After', RETRY_AFTER_SECONDS);
      throw new AppError(429, 'too_many_streams', `Too many live streams open for ${actor.name} (${mine}, the most is ${eventStreams.perActor}): close some pages of coffre, or wait for them to end, and try again.`);
    }
    if (openInAll >= eventStreams.total) {
      res.set('Retry-After', RETRY_AFTER_SECONDS);
      throw new UnavailableError(`The API has as many live streams open as it serves (${eventStreams.total}): try again in a moment.`);
    }
    openByActor.set(key, mine + 1);
    openInAll += 1;

    let ended = false;
    let unsubscribe = () => {};
    const timers: ReturnType<typeof setTimeout>[] = [];
    // Frees the stream's slots once, however it ends: the client leaving, or the stream ended here.
    const release = () => {
      if (ended) return;
      ended = true;
      timers.forEach((timer) => clearTimeout(timer));
      unsubscribe();
      const left = (openByActor.get(key) ?? 1) - 1;
      if (left > 0) openByActor.set(key, left);
      else openByActor.delete(key);
      openInAll -= 1;
    };
    res.once('close', release);
    const end = (why: string) => {
      if (ended) return;
      req.log?.info({ reason: why }, 'live stream ended');
      release();
      res.end();
    };

    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store, no-transform',
      Connection: 'keep-alive',
      // A proxy in front (nginx) must pass each event on at once.
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    req.socket.setTimeout(0);
    req.socket.setNoDelay(true);
    res.write('retry: 3000\nevent: ready\ndata: {}\n\n');
    unsubscribe = changeFeed(ctx).subscribe((topics) => {
      const change: LiveChange = { topics };
      res.write(`event: change\ndata: ${JSON.stringify(change)}\n\n`);
    });
    timers.push(setInterval(() => res.write(': keepalive\n\n'), eventStreams.keepaliveMs));

    let checking = false;
    const recheck = async () => {
      if (checking || ended) return;
      checking = true;
      try {
        const now = await identify(ctx, req);
        if (!roleAllows(now.actor.role, routes['events.stream'].access)) end('its role no longer allows the stream');
      } catch (error) {
        end(error instanceof AppError && error.status === 401 ? 'its token or session no longer authenticates' : `its caller could not be checked again: ${String(error)}`);
      } finally {
        checking = false;
      }
    };
    timers.push(setInterval(() => void recheck(), eventStreams.recheckMs));

    // The session's or token's expiry, when it has one: the stream ends then, not at the next check.
    void expiryOf(ctx, actor, req.sessionId)
      .then((expiresAt) => {
        if (!expiresAt || ended) return;
        const delay = expiresAt.getTime() - Date.now();
        if (delay <= 0) end('its session or token expired');
        else if (delay <= LONGEST_TIMER_MS) timers.push(setTimeout(() => end('its session or token expired'), delay));
      })
      .catch((error: unknown) => req.log?.warn({ err: error }, 'could not read when the live stream’s session or token expires; it is checked again periodically'));
  });
}

/** Whose slots a stream takes: the user's, or the token's (a session opened with a token counts for the token). */
function actorKey(actor: Actor): string {
  return `${actor.type}:${actor.id ?? actor.name}`;
}

/** When the caller's session (and the token that opened it) or bearer token expires, if ever. */
async function expiryOf(ctx: AppContext, actor: Actor, sessionId: string | undefined): Promise<Date | null> {
  if (sessionId) {
    const session = await ctx.db.session.findUnique({ where: { id: sessionId }, select: { expiresAt: true, token: { select: { expiresAt: true } } } });
    if (!session) return new Date(0);
    const tokenExpiry = session.token?.expiresAt;
    return tokenExpiry && tokenExpiry < session.expiresAt ? tokenExpiry : session.expiresAt;
  }
  if (actor.type === 'token' && actor.id) {
    const token = await ctx.db.apiToken.findUnique({ where: { id: actor.id }, select: { expiresAt: true } });
    return token ? token.expiresAt : new Date(0);
  }
  return null;
}
