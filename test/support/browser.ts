import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium, installed by scripts/ensure-chromium.sh; no browser is ever downloaded. */
export const CHROMIUM = process.env.BERTH_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Flags for a headless Chromium on a machine without a network: without the
 * background-networking ones it keeps trying to reach Google's hosts. Playwright
 * adds --headless and a fresh temporary --user-data-dir itself.
 */
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run 'bash scripts/ensure-chromium.sh' (scripts/test.sh does) to install Debian's chromium`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 30_000 });
}

/** Where screenshots go: test-artifacts/ at the repository root (git-ignored), from src or dist. */
export async function artifactsDir(sub: string): Promise<string> {
  const here = fileURLToPath(import.meta.url);
  const root = here.includes('/dist/test/') ? new URL('../../../', import.meta.url) : new URL('../../', import.meta.url);
  const dir = fileURLToPath(new URL(`test-artifacts/${sub}/`, root));
  await mkdir(dir, { recursive: true });
  return dir;
}

/**
 * Collects what would otherwise pass unnoticed: uncaught page errors and console
 * errors (a CSP violation is reported as one, "Refused to load…").
 */
export function pageProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    // A refused API call (a wrong token, logs before there is a container) is logged by the browser itself; the page handles it.
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) problems.push(`console error: ${msg.text()}`);
  });
  // The dashboard's own files must always load: a module that fails to load stops the page silently.
  page.on('requestfailed', (req) => {
    // Chromium fails every request under way with ERR_NETWORK_CHANGED when the host's interfaces change, as the
    // engine's do for each container the engine lane starts beside this file: the page's boot.js reloads it (which
    // aborts the other requests under way) and its API reads are asked again (dashboard-load-retry.test.ts shows
    // both), so neither is a problem by itself; a file that never arrives still is (the page says so, and the
    // test's next step fails).
    const failure = req.failure()?.errorText ?? '';
    if (failure === 'net::ERR_NETWORK_CHANGED' || failure === 'net::ERR_ABORTED') return;
    if (!new URL(req.url()).pathname.startsWith('/v1/')) problems.push(`request failed: ${req.url()} (${failure})`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400 && !new URL(res.url()).pathname.startsWith('/v1/')) problems.push(`${res.status()} for ${res.url()}`);
  });
  return problems;
}
