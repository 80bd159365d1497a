// The web UI's one live connection: server-sent events saying what changed ("backups",
// "restores"…), so that each page reads again what it shows instead of polling.
import { changeFeed, type AppContext, type LiveChange } from '@coffre/shared';
import type { Api } from '../http/routes.js';

const KEEPALIVE_MS = 25_000;

export function eventRoutes(api: Api, ctx: AppContext): void {
  api.route('events.stream', (_input, { req, res }) => {
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
    const unsubscribe = changeFeed(ctx).subscribe((topics) => {
      const change: LiveChange = { topics };
      res.write(`event: change\ndata: ${JSON.stringify(change)}\n\n`);
    });
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    req.once('close', () => {
      clearInterval(keepalive);
      unsubscribe();
    });
  });
}
