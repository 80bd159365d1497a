// The web UI's destination form with a real SFTP server: an SFTP destination added with a key, its
// connection tested (which pins the host key, shown on its card), and an rclone remote added with its
// configuration; neither credential is ever shown back.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { startSftpServer, type SftpTestServer } from '../../../test/support/sftp-server.js';
import { sftpRemote } from '../../../test/support/rclone.js';
import { DESKTOP, launchBrowser, screenshot, type BrowserSession } from './support/browser.js';
import { createWebStack, type WebStack } from './support/web-stack.js';
import { dismissToasts, logIn, toast } from './support/ui.js';

let web: WebStack;
let sshd: SftpTestServer;
let session: BrowserSession;
let page: Page;

beforeAll(async () => {
  [web, sshd] = await Promise.all([createWebStack(), startSftpServer()]);
  session = await launchBrowser();
  const admin = await web.user('admin');
  ({ page } = await session.newPage(DESKTOP));
  page.setDefaultTimeout(60_000);
  await logIn(page, web.url, admin);
});

afterAll(async () => {
  await session?.close();
  await web?.close();
  await sshd?.stop();
});

afterEach(() => {
  expect(session.errors).toEqual([]);
});

const card = (name: string) => page.locator(`[data-testid=destination-card][data-name="${name}"]`);

describe('remote destinations in the web UI', () => {
  test('an SFTP server is added with a key, tested, and its host key shown as pinned', async () => {
    await page.goto(`${web.url}/destinations`);
    await page.click('button:has-text("Add a destination")');
    const dialog = page.locator('[role=dialog]', { hasText: 'Add a destination' });
    await dialog.locator('#dest-kind').selectOption('sftp');
    await dialog.locator('#dest-name').fill('nas');
    await dialog.locator('#dest-host').fill(sshd.host);
    await dialog.locator('#dest-port').fill('not a port');
    await dialog.locator('#dest-port-error').waitFor();
    await dialog.locator('#dest-port').fill(String(sshd.port));
    await dialog.locator('#dest-username').fill(sshd.username);
    await dialog.locator('#dest-remote-path').fill(`${sshd.files}/web`);
    await dialog.locator('#dest-private-key').fill(sshd.privateKey);
    await screenshot(page, 'destination-form-sftp');
    await dialog.locator('button:has-text("Add destination")').click();
    await toast(page, 'nas is added.');
    const nas = card('nas');
    await nas.locator('dd', { hasText: 'stored, sealed' }).waitFor();
    await nas.locator('button:has-text("Test connection")').click();
    await nas.locator('[data-testid=destination-test-result].success-text', { hasText: 'is writable' }).waitFor();
    await page.reload();
    await card('nas').locator('dd', { hasText: sshd.hostKeySha256 }).waitFor();
    expect(await page.content()).not.toContain(sshd.privateKey.split('\n')[1]!);
    await dismissToasts(page);
  });

  test('an rclone remote is added with its configuration and tested', async () => {
    await page.click('button:has-text("Add a destination")');
    const dialog = page.locator('[role=dialog]', { hasText: 'Add a destination' });
    await dialog.locator('#dest-kind').selectOption('rclone');
    await dialog.locator('#dest-name').fill('by-rclone');
    await dialog.locator('#dest-remote').fill('box');
    await dialog.locator('#dest-remote-path').fill(`${sshd.files}/web-rclone`);
    await dialog.locator('#dest-rclone-config').fill(sftpRemote('box', sshd));
    await dialog.locator('button:has-text("Add destination")').click();
    await toast(page, 'by-rclone is added.');
    const added = card('by-rclone');
    await added.locator('button:has-text("Test connection")').click();
    await added.locator('[data-testid=destination-test-result].success-text', { hasText: 'is writable' }).waitFor();
    expect(await page.content()).not.toContain('key_pem');
  });
});
