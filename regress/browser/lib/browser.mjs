// regress/browser/lib/browser.mjs: Debian's headless Chromium driven by
// playwright-core (no browser download), with a fresh profile per run, and
// a screenshot helper that writes PNGs into the artifacts directory.
//
//   const b = await startBrowser();          b.page, b.context
//   startBrowser({ colorScheme: 'dark' })    prefers-color-scheme: dark
//   await b.shot('03-llm-dialog');            artifacts/03-llm-dialog.png
//   await b.close();
//
// CHROMIUM_BIN overrides /usr/bin/chromium. Screenshots go to
// $AISTUDIO_BROWSER_ARTIFACTS, else regress/browser/artifacts/ (git-ignored;
// run-tests.sh removes its scratch directory, so they are kept in the tree).
import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ARTIFACTS = process.env.AISTUDIO_BROWSER_ARTIFACTS || path.resolve(here, '..', 'artifacts');
export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

export const LAUNCH_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export async function startBrowser({ width = 1440, height = 900, colorScheme = 'light' } = {}) {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: install Debian's chromium (bash docker/install-deps.sh)`);
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  const base = process.env.AISTUDIO_TEST_WORK && existsSync(process.env.AISTUDIO_TEST_WORK)
    ? process.env.AISTUDIO_TEST_WORK : os.tmpdir();
  const profile = mkdtempSync(path.join(base, 'browser-profile-'));
  // launchPersistentContext gives Chromium this fresh --user-data-dir
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: LAUNCH_ARGS,
    viewport: { width, height },
    locale: 'en-US',
    timezoneId: 'UTC',
    colorScheme,
  });
  context.setDefaultTimeout(15000);
  const page = context.pages()[0] || await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // a 401 while signed out is expected; anything else logged as an error is not
    if (m.type() === 'error' && !/status of 401/.test(m.text())) problems.push(`console error: ${m.text()}`);
  });
  let n = 0;
  return {
    context,
    page,
    problems,
    artifacts: ARTIFACTS,
    async shot(name, opts = {}) {
      n += 1;
      const file = path.join(ARTIFACTS, `${String(n).padStart(2, '0')}-${name}.png`);
      await page.screenshot({ path: file, fullPage: !!opts.fullPage, animations: 'disabled' });
      return file;
    },
    async close() {
      try { await context.close(); } finally { rmSync(profile, { recursive: true, force: true }); }
    },
  };
}
