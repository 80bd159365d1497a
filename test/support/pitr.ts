// What the point-in-time recovery tests start with: a webhook for disk.warning alerts, workers, and
// point-in-time recovery on for the stack's default source (its WAL streaming from then on).
import request from 'supertest';
import { setPitr, systemActor, type Source } from '@coffre/shared';
import type { TestStack } from './stack.js';

export async function streamDefaultSource(stack: TestStack, alertsUrl: string): Promise<Source> {
  await request(stack.app)
    .post('/api/notification-channels')
    .set('Authorization', `Bearer ${stack.adminToken}`)
    .send({ name: 'pitr-alerts', kind: 'webhook', url: alertsUrl, events: ['disk.warning'] })
    .expect(201);
  stack.startWorkers({ concurrency: 2 });
  const source = await stack.ctx.db.source.findUniqueOrThrow({ where: { name: 'default' } });
  await setPitr(stack.ctx, source.id, true, systemActor);
  return source;
}
