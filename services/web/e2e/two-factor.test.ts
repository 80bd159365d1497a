// Two-factor authentication in Debian's chromium against the real API: a password user turns it on
// from their account page (secret shown once, confirmed by a code, ten recovery codes shown once),
// then logs in with the password and the code; a wrong code is refused with a sentence; a recovery
// code opens one login. Codes are computed by otplib, as the user's authenticator app would.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { generate } from 'otplib';
import { DESKTOP, launchBrowser, screenshot, type BrowserSession } from './support/browser.js';
import { createWebStack, type WebStack } from './support/web-stack.js';

let web: WebStack;
let session: BrowserSession;
let user: { username: string; password: string };
let secret = '';
let recoveryCodes: string[] = [];

/** The code the authenticator shows `offset` × 30 s from now (the API takes one step either way). */
const code = (offset = 0) => generate({ secret, epoch: Math.floor(Date.now() / 1000) + offset * 30 });
/** Waits for the next 30 s step when less than 10 s are left in this one. */
const earlyInStep = async () => {
  const left = 30 - ((Date.now() / 1000) % 30);
  if (left < 10) await new Promise((resolve) => setTimeout(resolve, left * 1000 + 200));
};

beforeAll(async () => {
  web = await createWebStack();
  session = await launchBrowser();
  user = await web.user('operator');
});

afterAll(async () => {
  await session?.close();
  await web?.close();
});

async function passwordStep(who = user): Promise<Page> {
  const { page } = await session.newPage(DESKTOP);
  page.setDefaultTimeout(60_000);
  await page.goto(`${web.url}/login`);
  await page.getByLabel('Username').fill(who.username);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  return page;
}

const whoami = (page: Page) => page.getByTestId('whoami').textContent();

describe('two-factor authentication in the browser', () => {
  test('a user turns it on from the account page: the secret and the recovery codes are shown once', async () => {
    const page = await passwordStep();
    await expect.poll(() => whoami(page)).toBe(`${user.username}operator`);
    await page.goto(`${web.url}/sessions`);
    await page.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
    secret = (await page.getByTestId('totp-secret').textContent()) ?? '';
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(await page.getByTestId('totp-uri').getAttribute('href')).toBe(`otpauth://totp/coffre:${user.username}?secret=${secret}&issuer=coffre`);
    // The previous step's code (the login below then uses a later one), typed early in a step: it is
    // accepted while the server's clock is within one step of it, and a boundary falling between typing
    // and checking on a busy machine made it two.
    await earlyInStep();
    await page.getByLabel('Code', { exact: true }).fill(await code(-1));
    await page.getByRole('button', { name: 'Confirm' }).click();
    const list = page.getByTestId('recovery-codes').getByRole('listitem');
    await expect.poll(() => list.count()).toBe(10);
    recoveryCodes = await list.allTextContents();
    await screenshot(page, 'two-factor-recovery-codes');
    await page.getByRole('button', { name: 'I have kept them' }).click();
    await expect.poll(() => page.getByTestId('two-factor-on').textContent()).toBe('On. 10 recovery codes left.');
    expect(await page.getByTestId('totp-secret').count()).toBe(0);
  });

  test('the password alone is not enough: the code step logs the user in', async () => {
    const page = await passwordStep();
    await page.getByRole('heading', { name: 'Two-factor authentication' }).waitFor();
    expect((await page.context().cookies(web.url)).map((c) => c.name)).not.toContain('coffre_session');
    await screenshot(page, 'two-factor-login');
    await page.getByLabel('Code').fill(await code(0));
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect.poll(() => whoami(page)).toBe(`${user.username}operator`);
  });

  test('a wrong code is refused with a sentence, and the code field is emptied for another try', async () => {
    const page = await passwordStep();
    await page.getByRole('heading', { name: 'Two-factor authentication' }).waitFor();
    const wrong = String((Number(await code(0)) + 1) % 1_000_000).padStart(6, '0');
    await page.getByLabel('Code').fill(wrong);
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('The code is wrong or was already used: type the code the authenticator shows now, or a recovery code.');
    expect(await page.getByLabel('Code').inputValue()).toBe('');
    expect(await page.getByTestId('whoami').count()).toBe(0);
  });

  test('a recovery code opens one login, once', async () => {
    const page = await passwordStep();
    await page.getByRole('button', { name: 'Use a recovery code' }).click();
    await page.getByLabel('Recovery code').fill(recoveryCodes[0]!);
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect.poll(() => whoami(page)).toBe(`${user.username}operator`);

    const again = await passwordStep();
    await again.getByRole('button', { name: 'Use a recovery code' }).click();
    await again.getByLabel('Recovery code').fill(recoveryCodes[0]!);
    await again.getByRole('button', { name: 'Verify' }).click();
    await expect.poll(() => again.getByRole('alert').textContent()).toMatch(/wrong or was already used/);
  });

  test('an admin resets it from the users page (a lost authenticator): the password alone opens the account again', async () => {
    const admin = await passwordStep(await web.user('admin'));
    await admin.getByTestId('whoami').waitFor();
    await admin.goto(`${web.url}/users`);
    const row = admin.locator(`[data-testid=user-row][data-name="${user.username}"]`);
    await expect.poll(() => row.textContent()).toContain('2FA');
    await admin.getByRole('button', { name: `Reset two-factor authentication of ${user.username}` }).click();
    await admin.getByRole('dialog').getByRole('button', { name: 'Reset 2FA' }).click();
    await expect.poll(() => row.textContent()).not.toContain('2FA');

    const page = await passwordStep();
    await expect.poll(() => whoami(page)).toBe(`${user.username}operator`);
    const event = await web.stack.ctx.db.auditEvent.findFirstOrThrow({ where: { action: 'user.totp.reset' } });
    expect(event.actorType).toBe('user');
  });
});
