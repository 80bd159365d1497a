// Real receivers for notification tests: an HTTP server (node:http) that records every request with
// its raw body and answers what the test tells it to, and an SMTP sink (smtp-server) that keeps every
// message. Both listen on 127.0.0.1 on a free port and can be stopped and started again on that port.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedRequest {
  at: number;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  raw: string;
  json: unknown;
}

export interface HttpReceiver {
  port: number;
  url(path: string): string;
  requests: ReceivedRequest[];
  /** What to answer, per request (200 by default). */
  respond: (req: ReceivedRequest) => { status: number; body?: string };
  /** Waits until `count` requests matched `filter`. */
  waitFor(count: number, filter?: (r: ReceivedRequest) => boolean, timeoutMs?: number): Promise<ReceivedRequest[]>;
  /** Stops listening (connections are refused) until start() again, on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startHttpReceiver(): Promise<HttpReceiver> {
  let server: Server | null = null;
  const receiver: HttpReceiver = {
    port: 0,
    url: (path) => `http://127.0.0.1:${receiver.port}${path}`,
    requests: [],
    respond: () => ({ status: 200, body: 'ok' }),
    waitFor: (count, filter = () => true, timeoutMs = 60_000) =>
      waitUntil(() => {
        const matched = receiver.requests.filter(filter);
        return matched.length >= count ? matched : null;
      }, timeoutMs, `${count} request(s) at the HTTP receiver`),
    async stop() {
      if (!server) return;
      const s = server;
      server = null;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    async start() {
      if (server) return;
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          let json: unknown = null;
          try {
            json = JSON.parse(raw);
          } catch {}
          const record: ReceivedRequest = { at: Date.now(), method: req.method ?? '', path: req.url ?? '', headers: req.headers, raw, json };
          receiver.requests.push(record);
          const answer = receiver.respond(record);
          res.writeHead(answer.status, { 'Content-Type': 'text/plain' }).end(answer.body ?? '');
        });
      });
      const s = server;
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(receiver.port, '127.0.0.1', () => resolve());
      });
      receiver.port = (s.address() as AddressInfo).port;
    },
  };
  await receiver.start();
  return receiver;
}

export interface ReceivedMail {
  from: string;
  to: string[];
  user: string | null;
  raw: string;
}

export interface SmtpSink {
  port: number;
  messages: ReceivedMail[];
  waitFor(count: number, filter?: (m: ReceivedMail) => boolean, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

/** An SMTP server that accepts one user and password (AUTH PLAIN/LOGIN over plain text, no STARTTLS). */
export async function startSmtpSink(credentials: { user: string; password: string }): Promise<SmtpSink> {
  const messages: ReceivedMail[] = [];
  const server = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === credentials.user && auth.password === credentials.password) return callback(null, { user: auth.username });
      const error = new Error('Invalid username or password') as Error & { responseCode: number };
      error.responseCode = 535;
      callback(error);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          user: (session.user as string | undefined) ?? null,
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = ((server as unknown as { server: Server }).server.address() as AddressInfo).port;
  return {
    port,
    messages,
    waitFor: (count, filter = () => true, timeoutMs = 60_000) =>
      waitUntil(() => {
        const matched = messages.filter(filter);
        return matched.length >= count ? matched : null;
      }, timeoutMs, `${count} message(s) at the SMTP sink`),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A header of a received message, unfolded and with RFC 2047 encoded words decoded. */
export function mailHeader(raw: string, name: string): string | null {
  const head = raw.split(/\r?\n\r?\n/)[0]!.replace(/\r?\n[ \t]+/g, ' ');
  const line = head.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  if (!line) return null;
  return line
    .slice(name.length + 1)
    .trim()
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?utf-8\?([QB])\?([^?]*)\?=/gi, (_, encoding: string, text: string) =>
      encoding.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1').toString('utf8'),
    );
}

/** The body of a received text message, quoted-printable decoded. */
export function mailText(raw: string): string {
  const body = raw.split(/\r?\n\r?\n/).slice(1).join('\n\n');
  return Buffer.from(body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))), 'latin1').toString('utf8');
}

/** A port nothing listens on (taken from the system, then released). */
export async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitUntil<T>(check: () => T | null, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
