// Steps the browser tests share: toasts, console errors a step provokes on purpose, logging in,
// and waiting on the API with a deadline (never a fixed sleep).
import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import type { BrowserSession } from './browser.js';

/** Removes the console errors a step provoked on purpose (exactly `count` of them), so that any other fails. */
export function expectConsoleErrors(session: BrowserSession, pattern: RegExp, count: number): void {
  const matching = session.errors.filter((error) => pattern.test(error));
  expect(matching, `expected ${count} console error(s) matching ${pattern}`).toHaveLength(count);
  session.errors.splice(0, session.errors.length, ...session.errors.filter((error) => !pattern.test(error)));
}

export async function toast(on: Page, text: string | RegExp): Promise<void> {
  await on.locator('[data-testid=toast]', { hasText: text }).first().waitFor();
}

/** Closes the toasts on screen (a success toast may fade by itself meanwhile: no long wait for it). */
export async function dismissToasts(on: Page): Promise<void> {
  const closes = on.locator('.toast-close');
  for (let round = 0; round < 10 && (await closes.count()) > 0; round += 1) await closes.first().click({ timeout: 1000 }).catch(() => {});
}

export async function logIn(on: Page, url: string, credentials: { username: string; password: string }): Promise<void> {
  await on.goto(url);
  await on.fill('input[name=username]', credentials.username);
  await on.fill('input[name=password]', credentials.password);
  await on.click('button[type=submit]');
  await on.locator('[data-testid=whoami]', { hasText: credentials.username }).waitFor();
}

/** Polls `read` until `done` holds for its value, or fails after `timeoutMs` with the last value. */
export async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 120_000, what = 'the condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
