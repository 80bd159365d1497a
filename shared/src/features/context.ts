// The application put together: the bare context (settings, database, queues, logger, credentials)
// with the features that listen to what happens: a run that ends is announced by the run life cycle,
// and the notifications feature tells the channels that want to know.
import { createBareContext, type AppContext } from '../infra/context.js';
import { notifyRunEnded } from './notifications/notifications.js';

export function createAppContext(parts: Parameters<typeof createBareContext>[0]): AppContext {
  const ctx = createBareContext(parts);
  ctx.events.on(async (event) => {
    if (event.type === 'run.ended') await notifyRunEnded(ctx, event.model, event.id);
  });
  return ctx;
}
