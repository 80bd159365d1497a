// The channel form accepts what the API accepts and flags what it refuses, checked against the
// API's own schemas; where the browser is looser (email grammar) the API's 400 has the last word.
import { describe, expect, test } from 'vitest';
import { channelInputSchema, channelUpdateSchema } from '@coffre/shared';
import type { NotificationChannel } from '../src/api/types.js';
import {
  channelCreateBody,
  channelFieldOfApiPath,
  channelUpdateBody,
  emptyChannelForm,
  formFromChannel,
  recipients,
  validateChannel,
  type ChannelForm,
} from '../src/lib/channel-rules.js';

const webhook = (change: Partial<ChannelForm> = {}): ChannelForm => ({ ...emptyChannelForm(), name: 'ops hook', url: 'https://hooks.example.com/coffre?key=abc', ...change });
const email = (change: Partial<ChannelForm> = {}): ChannelForm => ({
  ...emptyChannelForm(),
  kind: 'email',
  name: 'ops mail',
  host: 'smtp.example.com',
  from: 'coffre@example.com',
  to: 'ops@example.com, dba@example.com',
  ...change,
});

const cases: [string, ChannelForm, keyof ChannelForm | null][] = [
  ['a webhook', webhook(), null],
  ['a signed webhook', webhook({ signingSecret: 's'.repeat(16) }), null],
  ['a Slack channel', webhook({ kind: 'slack', url: 'https://hooks.slack.com/services/T/B/X' }), null],
  ['a Discord channel on http', webhook({ kind: 'discord', url: 'http://discord.example.com/api/webhooks/1/x' }), null],
  ['an email channel with a login', email({ user: 'coffre', password: 'app password', port: '465', secure: true }), null],
  ['every event', webhook({ events: ['backup.failed', 'backup.completed', 'restore.completed', 'restore.failed', 'verification.failed', 'configuration.overdue', 'disk.warning'] }), null],
  ['an empty name', webhook({ name: '   ' }), 'name'],
  ['a name of 101 characters', webhook({ name: 'n'.repeat(101) }), 'name'],
  ['a name with a control character', webhook({ name: 'a\u0007b' }), 'name'],
  ['no event', webhook({ events: [] }), 'events'],
  ['no URL', webhook({ url: '' }), 'url'],
  ['an ftp URL', webhook({ url: 'ftp://files.example.com/in' }), 'url'],
  ['a URL without a scheme', webhook({ url: 'hooks.example.com/x' }), 'url'],
  ['a signing secret of 15 characters', webhook({ signingSecret: 's'.repeat(15) }), 'signingSecret'],
  ['no SMTP host', email({ host: '' }), 'host'],
  ['a host with a space', email({ host: 'smtp example.com' }), 'host'],
  ['port 0', email({ port: '0' }), 'port'],
  ['port 70000', email({ port: '70000' }), 'port'],
  ['no sender', email({ from: '' }), 'from'],
  ['a sender without @', email({ from: 'coffre.example.com' }), 'from'],
  ['no recipient', email({ to: ' , ' }), 'to'],
  ['a recipient without @', email({ to: 'ops@example.com, dba' }), 'to'],
];

describe('notification channel form', () => {
  test.each(cases)('%s', (_label, form, field) => {
    const errors = validateChannel(form);
    const parsed = channelInputSchema.safeParse(channelCreateBody(form));
    if (field === null) {
      expect(errors).toEqual({});
      expect(parsed.error?.issues ?? []).toEqual([]);
    } else {
      expect(Object.keys(errors)).toEqual([field]);
      expect(parsed.success).toBe(false);
    }
  });

  test('an address the browser lets through and the API refuses is mapped back to its field', () => {
    const form = email({ to: 'ops@localhost' });
    expect(validateChannel(form)).toEqual({});
    const parsed = channelInputSchema.safeParse(channelCreateBody(form));
    expect(parsed.success).toBe(false);
    expect(channelFieldOfApiPath('to[0]')).toBe('to');
    expect(channelFieldOfApiPath('signingSecret')).toBe('signingSecret');
    expect(channelFieldOfApiPath('kind')).toBeNull();
  });

  test('recipients split on commas, semicolons and new lines', () => {
    expect(recipients('a@x.org, b@x.org;c@x.org\n d@x.org ,')).toEqual(['a@x.org', 'b@x.org', 'c@x.org', 'd@x.org']);
  });

  describe('editing', () => {
    const stored: NotificationChannel = {
      id: '0190a6f4-8f2b-7cc1-9a43-6d5b2c1e0f11',
      name: 'ops hook',
      kind: 'webhook',
      events: ['backup.failed'],
      enabled: true,
      url: 'https://hooks.example.com/********',
      signingSecret: '********',
      createdAt: '2026-05-20T10:00:00.000Z',
      updatedAt: '2026-05-20T10:00:00.000Z',
    };

    test('secrets left empty are not sent, so the API keeps them', () => {
      const form = formFromChannel(stored);
      expect(form.url).toBe('');
      expect(form.signingSecret).toBe('');
      expect(validateChannel(form, stored)).toEqual({});
      const body = channelUpdateBody({ ...form, events: ['backup.failed', 'backup.completed'] });
      expect(body).toEqual({ name: 'ops hook', events: ['backup.failed', 'backup.completed'], enabled: true });
      expect(channelUpdateSchema.safeParse(body).success).toBe(true);
    });

    test('a secret typed is sent, and a removed one is sent as null', () => {
      const form = formFromChannel(stored);
      expect(channelUpdateBody({ ...form, signingSecret: 'n'.repeat(20) })).toMatchObject({ signingSecret: 'n'.repeat(20) });
      const removed = channelUpdateBody({ ...form, signingSecret: 'ignored', removeSigningSecret: true });
      expect(removed).toMatchObject({ signingSecret: null });
      expect(channelUpdateSchema.safeParse(removed).success).toBe(true);
    });

    test('an email channel keeps its password unless one is typed or it is removed', () => {
      const mail: NotificationChannel = { ...stored, kind: 'email', url: undefined, signingSecret: undefined, host: 'smtp.example.com', port: 587, secure: false, user: 'coffre', password: '********', from: 'coffre@example.com', to: ['ops@example.com'] };
      const form = formFromChannel(mail);
      expect(form.to).toBe('ops@example.com');
      const body = channelUpdateBody(form);
      expect(body).not.toHaveProperty('password');
      expect(channelUpdateSchema.safeParse(body).success).toBe(true);
      expect(channelUpdateBody({ ...form, removePassword: true })).toMatchObject({ password: null });
    });
  });
});
