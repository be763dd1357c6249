/**
 * A real browser for the web client's tests: Debian's Chromium driven by playwright-core,
 * one per test file, closed at the end. Screenshots go to test/screenshots/ (gitignored).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Test } from 'tap';
import { packageRoot } from '../../common/paths.js';

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(packageRoot, 'test', 'screenshots');

export const VIEWPORTS = {
  desktop: { width: 1280, height: 900 },
  phone: { width: 360, height: 740 },
} as const;

export async function launchBrowser(t: Test, extraArgs: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no browser at ${CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH`);
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      ...extraArgs,
    ],
  });
  t.teardown(() => browser.close());
  await mkdir(SCREENSHOTS, { recursive: true });
  return browser;
}

export interface BrowserPage {
  context: BrowserContext;
  page: Page;
  /** Content-Security-Policy violations, script errors and missing assets seen on the page. */
  problems: string[];
}

/** A fresh context (own cookies and storage) with one page, closed when the test ends. */
export async function openPage(
  t: Test,
  browser: Browser,
  options: {
    viewport?: keyof typeof VIEWPORTS | { width: number; height: number };
    javaScriptEnabled?: boolean;
  } = {},
): Promise<BrowserPage> {
  const context = await browser.newContext({
    viewport:
      typeof options.viewport === 'object' ? options.viewport : VIEWPORTS[options.viewport ?? 'desktop'],
    javaScriptEnabled: options.javaScriptEnabled ?? true,
    locale: 'en-GB',
  });
  t.teardown(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) {
      problems.push(message.text());
    }
  });
  page.on('pageerror', (err) => problems.push(err.message));
  // A missing asset (the icon the browser asks for by itself, a style sheet, a script) shows
  // in the console only as "Failed to load resource", which the filter above lets by (the
  // API's own 4xx answers print the same): look at the responses instead.
  page.on('response', (response) => {
    const type = response.request().resourceType();
    if (
      response.status() >= 400 &&
      ['stylesheet', 'script', 'image', 'font', 'manifest', 'other'].includes(type)
    ) {
      problems.push(`${type} ${new URL(response.url()).pathname}: ${response.status()}`);
    }
  });
  return { context, page, problems };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
