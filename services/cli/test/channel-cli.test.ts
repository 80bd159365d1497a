// The built `coffre channel` against a real API and a real HTTP receiver: a Gotify channel made with
// its token read from standard input (never an argument), tested, listed masked, and removed; a
// Telegram channel from a --file body; a kind left out exits 2 with a sentence.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestStack, type TestStack } from '../../../test/support/stack.js';
import { startHttpReceiver, type HttpReceiver } from '../../../test/support/receivers.js';
import { listen, removePrivateHomes, runCli, type ListeningApi } from './support/cli.js';

const APP_TOKEN = 'Gotify.cli_token-81x';
const BOT_TOKEN = '7012345678:AAHcliTESTtokenTESTtoken12345678';

let stack: TestStack;
let api: ListeningApi;
let receiver: HttpReceiver;
let dir: string;

beforeAll(async () => {
  stack = await createTestStack();
  api = await listen(stack);
  receiver = await startHttpReceiver();
  dir = await mkdtemp(join(tmpdir(), 'coffre-cli-channels-'));
});

afterAll(async () => {
  removePrivateHomes();
  await rm(dir, { recursive: true, force: true });
  await receiver?.stop();
  await api?.close();
  await stack?.close();
});

const coffre = (args: string[], input?: string) => runCli(args, { env: { COFFRE_URL: api.url, COFFRE_TOKEN: stack.adminToken }, input });

describe('coffre channel', () => {
  it('creates a Gotify channel with its token from standard input, tests it, lists it masked and deletes it', async () => {
    const created = await coffre(['channel', 'create', 'push', '--kind', 'gotify', '--endpoint', receiver.url('/gotify'), '--app-token', '-', '--json'], `${APP_TOKEN}\n`);
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ name: 'push', kind: 'gotify', appToken: '********' });

    const tested = await coffre(['channel', 'test', 'push']);
    expect(tested.code, tested.stderr).toBe(0);
    expect(tested.stdout).toContain('Delivered to "push".');
    const [hit] = await receiver.waitFor(1, (r) => r.path.startsWith('/gotify/message'));
    expect(hit!.path).toBe(`/gotify/message?token=${APP_TOKEN}`);
    expect(hit!.json).toMatchObject({ title: expect.any(String), message: expect.any(String), priority: expect.any(Number) });

    const listed = await coffre(['channel', 'list']);
    expect(listed.stdout).toMatch(/push\W+gotify\W/);
    expect(listed.stdout + created.stdout).not.toContain(APP_TOKEN);

    const deleted = await coffre(['channel', 'delete', 'push', '--yes']);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect((await coffre(['channel', 'test', 'push'])).code).toBe(3);
  });

  it('creates a Telegram channel from a --file body', async () => {
    const file = join(dir, 'telegram.json');
    await writeFile(file, JSON.stringify({ kind: 'telegram', botToken: BOT_TOKEN, chatId: '42', apiUrl: receiver.url('/tg'), events: ['backup.failed'] }), { mode: 0o600 });
    const created = await coffre(['channel', 'create', 'chat', '--file', file, '--json']);
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ kind: 'telegram', chatId: '42', botToken: '********', events: ['backup.failed'] });
    const tested = await coffre(['channel', 'test', 'chat']);
    expect(tested.code, tested.stderr).toBe(0);
    const [hit] = await receiver.waitFor(1, (r) => r.path.startsWith('/tg/'));
    expect(hit!.path).toBe(`/tg/bot${BOT_TOKEN}/sendMessage`);
    expect(hit!.json).toMatchObject({ chat_id: 42, parse_mode: 'HTML' });
  });

  it('without a kind exits 2 with a sentence', async () => {
    const result = await coffre(['channel', 'create', 'kindless', '--endpoint', 'https://hooks.example.org/x']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Say what the channel sends to: --kind');
  });
});
