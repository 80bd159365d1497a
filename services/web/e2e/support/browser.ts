// Debian's chromium driven by playwright-core (never a downloaded browser): a fresh profile per
// launch (playwright gives a non-persistent launch its own temporary user-data dir), every console error and uncaught page error collected so that a test can fail on them,
// and screenshots saved under test-output/screenshots (printed once).
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';

export const SCREENSHOT_DIR = resolve(process.env.COFFRE_SCREENSHOTS ?? 'test-output/screenshots');
export const DESKTOP = { width: 1440, height: 900 };
export const PHONE = { width: 390, height: 844 };

export interface BrowserSession {
  browser: Browser;
  /** Console errors and page errors of every page opened so far, with the page's URL. */
  errors: string[];
  /** A page in a fresh context; `options` sets its time zone, locale or colour scheme. */
  newPage(viewport?: { width: number; height: number }, options?: BrowserContextOptions): Promise<{ context: BrowserContext; page: Page }>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<BrowserSession> {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const errors: string[] = [];
  return {
    browser,
    errors,
    async newPage(viewport = DESKTOP, options = {}) {
      const context = await browser.newContext({ viewport, acceptDownloads: true, isMobile: viewport.width < 600, hasTouch: viewport.width < 600, ...options });
      const page = await context.newPage();
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(`console error on ${page.url()}: ${message.text()}`);
      });
      page.on('pageerror', (error) => errors.push(`page error on ${page.url()}: ${error.message}`));
      return { context, page };
    },
    async close() {
      await browser.close();
    },
  };
}

let announced = false;

/** Saves a screenshot as <name>-<desktop|phone>[-dark].png: the whole page, or the viewport while a dialog is open. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  if (!announced) {
    announced = true;
    console.log(`screenshots: ${SCREENSHOT_DIR}`);
  }
  const width = page.viewportSize()?.width ?? 0;
  const dark = (await page.evaluate(() => document.documentElement.dataset.theme).catch(() => undefined)) === 'dark';
  const path = join(SCREENSHOT_DIR, `${name}-${width < 600 ? 'phone' : 'desktop'}${dark ? '-dark' : ''}.png`);
  const dialogOpen = (await page.locator('[role=dialog]').count()) > 0;
  await page.screenshot({ path, fullPage: !dialogOpen });
  return path;
}
