// What changed, for the browsers' one live stream (GET /api/events): the tables written to, as the
// topics the web UI reads ("backups", "restores"…), gathered for a moment so that a burst of writes
// (a backup's progress, many times a second) is one message; and the set of live workers, checked
// while someone listens. Nothing runs while nobody listens: the database connection is opened for
// the first subscriber and closed after the last one.
import type { LiveTopic } from '@coffre/contract';
import { listenForChanges, type ChangeListener } from '../../infra/change-listener.js';
import type { AppContext } from '../../infra/context.js';
import { liveWorkers } from '../../infra/heartbeats.js';

const topicOfTable: Record<string, LiveTopic> = {
  Backup: 'backups',
  BackupArtifact: 'backups',
  Restore: 'restores',
  Verification: 'verifications',
  BackupConfiguration: 'configurations',
  ConfigurationDestination: 'configurations',
  Source: 'sources',
  Destination: 'destinations',
  NotificationChannel: 'notifications',
  NotificationDelivery: 'notifications',
  User: 'users',
};
const allTopics = [...new Set([...Object.values(topicOfTable), 'workers' as const])];

const GATHER_MS = 250;
const WORKERS_EVERY_MS = 5000;

export type ChangeSubscriber = (topics: LiveTopic[]) => void;

export interface ChangeFeed {
  subscribe(subscriber: ChangeSubscriber): () => void;
}

const feeds = new WeakMap<AppContext, ChangeFeed>();

/** The change feed of this process (one per context, however many browsers listen). */
export function changeFeed(ctx: AppContext): ChangeFeed {
  let feed = feeds.get(ctx);
  if (!feed) {
    feed = createChangeFeed(ctx);
    feeds.set(ctx, feed);
  }
  return feed;
}

function createChangeFeed(ctx: AppContext): ChangeFeed {
  const subscribers = new Set<ChangeSubscriber>();
  let listener: ChangeListener | null = null;
  let workersTimer: ReturnType<typeof setInterval> | undefined;
  let workersSeen: string | null = null;
  let pending = new Set<LiveTopic>();
  let flushTimer: ReturnType<typeof setTimeout> | undefined;

  const flush = () => {
    flushTimer = undefined;
    const topics = [...pending];
    pending = new Set();
    for (const subscriber of subscribers) subscriber(topics);
  };
  const changed = (topics: readonly LiveTopic[]) => {
    for (const topic of topics) pending.add(topic);
    flushTimer ??= setTimeout(flush, GATHER_MS);
  };
  const checkWorkers = async () => {
    const ids = (await liveWorkers(ctx).catch(() => null))?.map((w) => w.workerId).sort().join(',') ?? null;
    if (ids !== null && workersSeen !== null && ids !== workersSeen) changed(['workers']);
    if (ids !== null) workersSeen = ids;
  };

  const start = () => {
    listener = listenForChanges(
      ctx.config.DATABASE_URL,
      ctx.logger,
      (table) => {
        const topic = topicOfTable[table];
        if (topic) changed([topic]);
      },
      () => changed(allTopics),
    );
    void checkWorkers();
    workersTimer = setInterval(() => void checkWorkers(), WORKERS_EVERY_MS);
  };
  const stop = () => {
    clearInterval(workersTimer);
    clearTimeout(flushTimer);
    flushTimer = undefined;
    pending = new Set();
    workersSeen = null;
    void listener?.close();
    listener = null;
  };

  return {
    subscribe(subscriber) {
      subscribers.add(subscriber);
      if (subscribers.size === 1) start();
      return () => {
        subscribers.delete(subscriber);
        if (subscribers.size === 0) stop();
      };
    },
  };
}
