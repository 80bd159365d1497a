// The web forms check with the contract's schemas, the API's own: what the API refuses, a form
// refuses as it is typed, under the field, in the contract's words.
import { describe, expect, it } from 'vitest';
import { channelInputSchema, configurationCreateSchema, formatZodError } from '@coffre/contract';
import { channelCreateBody, channelProblems, channelUpdateBody, emptyChannelForm } from '../src/forms/channel';
import { configurationBody, configurationProblems, emptyForm } from '../src/forms/configuration';
import { destinationProblems, emptyDestinationForm } from '../src/forms/destination';
import { tokenProblems, userProblems } from '../src/forms/account';
import { restoreProblems, type RestoreChoice } from '../src/forms/restore';

const SOURCE = '0190f1e2-7c4a-7b3e-9d2f-1a2b3c4d5e6f';

describe('a form refuses what the API refuses', () => {
  it('an email address the API refuses (ops@localhost) is refused under its field', () => {
    const form = { ...emptyChannelForm(), name: 'ops mail', kind: 'email' as const, host: 'smtp.example.com', from: 'coffre@example.com', to: 'ops@localhost' };
    expect(channelProblems(form)).toEqual({ to: "To must be an email address (got 'ops@localhost')." });
    expect(formatZodError(channelInputSchema.safeParse(channelCreateBody(form), { reportInput: true }).error!)).toBe("to[0] must be an email address (got 'ops@localhost').");
  });

  it('a time zone the API refuses for schedules (a half-hour DST change) is refused under its field', () => {
    const form = { ...emptyForm(SOURCE), name: 'nightly', timezone: 'Australia/Lord_Howe' };
    expect(configurationProblems(form).timezone).toMatch(/^Timezone: 'Australia\/Lord_Howe' is not supported for schedules: its half-hour daylight-saving change/);
    expect(configurationCreateSchema.safeParse(configurationBody(form)).success).toBe(false);
  });

  it('a form the API accepts shows no problem', () => {
    const form = { ...emptyForm(SOURCE), name: 'nightly', timezone: 'Europe/Paris', maxAgeDays: '30' };
    expect(configurationProblems(form)).toEqual({});
    expect(configurationCreateSchema.safeParse(configurationBody(form)).success).toBe(true);
  });
});

describe('the words under a field', () => {
  it('are the contract’s, naming the field as the form shows it', () => {
    const form = { ...emptyForm(SOURCE), name: '', maxAgeDays: '366' };
    expect(configurationProblems(form)).toEqual({ name: 'Name must not be empty.', maxAgeDays: 'Max age days must be between 1 and 365 (got 366).' });
    expect(destinationProblems({ ...emptyDestinationForm(), name: 'nas', path: 'backups/coffre' })).toEqual({ path: "Path must be an absolute directory path (got 'backups/coffre')." });
  });

  it('for the size caps, the floor and the time limit name the form’s fields, and the body says bytes and seconds', () => {
    const form = { ...emptyForm(SOURCE), name: 'capped', minKeep: '3', maxTotalGb: '50', maxBackupGb: '2.5', timeLimitMinutes: '90' };
    expect(configurationProblems(form)).toEqual({});
    expect(configurationBody(form)).toMatchObject({ retention: { minKeep: 3, maxTotalBytes: 50_000_000_000 }, maxBackupBytes: 2_500_000_000, timeLimitSeconds: 5400 });
    expect(configurationBody({ ...form, maxBackupGb: '', timeLimitMinutes: '' })).toMatchObject({ maxBackupBytes: null, timeLimitSeconds: null });
    const problems = configurationProblems({ ...form, maxTotalGb: '0', timeLimitMinutes: '20000' });
    expect(Object.keys(problems).sort()).toEqual(['maxTotalGb', 'timeLimitMinutes']);
    expect(problems.timeLimitMinutes).toMatch(/must be between 1 and 604800 \(got 1200000\)/);
  });

  it('for the parallel pg_dump jobs are the contract’s range, and the body sends the number', () => {
    const form = { ...emptyForm(SOURCE), name: 'parallel', dumpJobs: '4' };
    expect(configurationProblems(form)).toEqual({});
    expect(configurationBody(form)).toMatchObject({ dumpJobs: 4 });
    expect(configurationBody({ ...form, dumpJobs: '' })).toMatchObject({ dumpJobs: 1 });
    expect(configurationProblems({ ...form, dumpJobs: '33' }).dumpJobs).toMatch(/must be between 1 and 32 \(got 33\)\.$/);
  });

  it('of the new notifiers send what the API takes, and an edit leaves out the secrets left empty', () => {
    const telegram = { ...emptyChannelForm(), name: 'chat', kind: 'telegram' as const, botToken: '7012345678:AAHformTESTtokenTESTtoken12345', chatId: '-100123' };
    expect(channelProblems(telegram)).toEqual({});
    expect(channelCreateBody(telegram)).toMatchObject({ kind: 'telegram', botToken: telegram.botToken, chatId: '-100123' });
    expect(channelProblems({ ...telegram, chatId: 'general' }).chatId).toMatch(/^Chat id must be a chat id/);
    const ntfy = { ...emptyChannelForm(), name: 'push', kind: 'ntfy' as const, url: 'https://ntfy.sh', topic: 'coffre-alerts' };
    expect(channelProblems(ntfy)).toEqual({});
    expect(channelUpdateBody({ ...ntfy, topic: '', accessToken: '' })).not.toHaveProperty('topic');
    expect(channelUpdateBody({ ...ntfy, removeAccessToken: true })).toMatchObject({ accessToken: null });
    const gotify = { ...emptyChannelForm(), name: 'g', kind: 'gotify' as const, url: 'https://push.example.org', appToken: '' };
    expect(Object.keys(channelProblems(gotify))).toEqual(['appToken']);
  });

  it('say how long a secret is so far, never quoting it', () => {
    expect(userProblems({ username: 'carol', password: '123456789', role: 'viewer' })).toEqual({ password: 'Password must be at least 10 characters long (9 so far).' });
  });

  it('are the form’s own for a picker or a hint, where the contract refuses the field', () => {
    expect(configurationProblems({ ...emptyForm(), name: 'nightly' })).toEqual({ sourceId: 'Pick the source to back up.' });
    expect(channelProblems({ ...emptyChannelForm(), name: 'hook', url: 'https://hooks.example.com/x', events: [] })).toEqual({ events: 'Pick at least one event.' });
    expect(tokenProblems({ name: 'ci', role: 'operator', expiresInDays: '0' })).toEqual({ expiresInDays: 'A whole number of days between 1 and 3650, or empty for no expiry.' });
  });

  it('of the restore dialog are the contract’s, and the dialog asks for what its choice needs', () => {
    const choice: RestoreChoice = { artifact: 'database', target: 'new', sourceId: '', database: '1-not-a-name', path: '', bucketSourceId: '', prefix: '' };
    expect(restoreProblems(choice)).toEqual({ database: 'Database must be 1–63 letters, digits, "_" or "-", starting with a letter or "_" (got \'1-not-a-name\').' });
    expect(restoreProblems({ ...choice, target: 'source', database: '' })).toEqual({ sourceId: 'Pick the source to restore into.' });
    expect(restoreProblems({ ...choice, artifact: 'bucket', bucketSourceId: SOURCE, prefix: 'copy/../x' })).toEqual({ prefix: 'Prefix must not contain "." or ".." segments (got \'copy/../x\').' });
  });
});
