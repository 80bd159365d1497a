// The audit log: who did what to which resource, when, from where.
import { z } from 'zod';
import { pageOf, pagination } from './common.js';
import { defineRoutes } from './route.js';

export const auditQuerySchema = z
  .object({
    action: z.string().trim().max(100).optional(),
    actor: z.string().trim().max(200).optional(),
    targetType: z.string().trim().max(50).optional(),
    targetId: z.string().trim().max(100).optional(),
    outcome: z.enum(['success', 'failure']).optional(),
    from: z.string().datetime({ offset: true }).or(z.string().date()).optional(),
    to: z.string().datetime({ offset: true }).or(z.string().date()).optional(),
    ...pagination(50),
  })
  .strict();
export type AuditQuery = z.infer<typeof auditQuerySchema>;

export const auditEventSchema = z
  .object({
    id: z.string(),
    at: z.string(),
    actorType: z.string(),
    actorName: z.string(),
    action: z.string(),
    targetType: z.string().nullable(),
    targetId: z.string().nullable(),
    outcome: z.string(),
    ip: z.string().nullable(),
    summary: z.unknown().nullable(),
  })
  .meta({ id: 'AuditEvent' });
export type AuditEventView = z.infer<typeof auditEventSchema>;

export const auditRoutes = defineRoutes({
  'audit.list': {
    method: 'get',
    path: '/api/audit',
    summary: 'Audit events (who did what, when, from where), newest first',
    tag: 'audit',
    access: 'admin',
    query: auditQuerySchema,
    responses: { 200: { description: 'A page of events.', schema: pageOf(auditEventSchema, 'AuditPage') } },
  },
});
