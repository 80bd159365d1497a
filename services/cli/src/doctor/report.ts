// What `coffre doctor` reports: one entry per check, OK, WARN, FAIL (or SKIP when what it needs is
// down), a sentence, and the fix. The same zod schema gives the published JSON schema
// (services/cli/doctor.schema.json, printed by `coffre doctor --schema`), so the two cannot drift.
import { z } from 'zod';

export const checkStatuses = ['ok', 'warn', 'fail', 'skip'] as const;
export type CheckStatus = (typeof checkStatuses)[number];

export const checkResultSchema = z
  .object({
    id: z.string().describe('what is checked, stable for scripts: database, migrations, redis, redis-eviction, workers, pg-tools, backup-directory, disk-usage, destination-connection, notification-channel, stuck-runs, stale-temporaries, schedulers, last-backups'),
    subject: z.string().nullable().describe('the source, destination or configuration checked, when the check runs for each'),
    title: z.string().describe('the check in words'),
    status: z.enum(checkStatuses),
    message: z.string().describe('what was found, in one sentence'),
    fix: z.string().nullable().describe('what to do about it (null when nothing needs doing)'),
    fixed: z.string().nullable().describe('what --fix did (null when it did nothing)'),
    details: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.string())])).describe('measurements behind the message'),
  })
  .strict();

export const doctorReportSchema = z
  .object({
    status: z.enum(['ok', 'warn', 'fail']).describe('the worst status of any check (skip counts as warn)'),
    checkedAt: z.string().describe('ISO 8601 time of the run'),
    fix: z.boolean().describe('whether --fix was given'),
    summary: z.object({ ok: z.int().min(0), warn: z.int().min(0), fail: z.int().min(0), skip: z.int().min(0) }).strict(),
    checks: z.array(checkResultSchema),
  })
  .strict()
  .meta({ title: 'coffre doctor report', description: 'The output of coffre doctor --json.' });

export type CheckResult = z.infer<typeof checkResultSchema>;
export type DoctorReport = z.infer<typeof doctorReportSchema>;

export function doctorJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(doctorReportSchema, { target: 'draft-2020-12' }) as Record<string, unknown>;
}

export function summarize(checks: CheckResult[], fix: boolean, now = new Date()): DoctorReport {
  const summary = { ok: 0, warn: 0, fail: 0, skip: 0 };
  for (const check of checks) summary[check.status] += 1;
  const status = summary.fail > 0 ? 'fail' : summary.warn + summary.skip > 0 ? 'warn' : 'ok';
  return { status, checkedAt: now.toISOString(), fix, summary, checks };
}

const labels: Record<CheckStatus, string> = { ok: 'OK', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' };

export function renderReport(report: DoctorReport, color: boolean): string {
  const paint = (status: CheckStatus, text: string) => {
    if (!color) return text;
    const code = { ok: 32, warn: 33, fail: 31, skip: 90 }[status];
    return `\u001b[${code}m${text}\u001b[0m`;
  };
  const width = Math.max(...report.checks.map((c) => (c.subject ? `${c.title} (${c.subject})` : c.title).length));
  const lines = report.checks.map((c) => {
    const title = (c.subject ? `${c.title} (${c.subject})` : c.title).padEnd(width);
    const parts = [`${paint(c.status, labels[c.status].padEnd(4))}  ${title}  ${c.message}`];
    if (c.fixed) parts.push(`${' '.repeat(width + 8)}fixed: ${c.fixed}`);
    if (c.fix && c.status !== 'ok') parts.push(`${' '.repeat(width + 8)}fix: ${c.fix}`);
    return parts.join('\n');
  });
  const { ok, warn, fail, skip } = report.summary;
  lines.push('', `${ok} OK, ${warn} WARN, ${fail} FAIL${skip ? `, ${skip} SKIP` : ''}.${!report.fix && (warn || fail) ? ' coffre doctor --fix repairs what is safe to repair.' : ''}`);
  return lines.join('\n');
}
