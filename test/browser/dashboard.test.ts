// The dashboard, driven in Debian's Chromium by playwright-core against a gateway
// running in this process on the real engine: sign in, watch an app start live after
// a request through the proxy (no reload), follow its logs, stop it from the UI and
// see the container stopped. Screenshots go to test-artifacts/browser/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { appPath, testAppYaml } from '../support/app-spec.js';
import { inspectAppContainer } from '../support/app-container.js';
import { artifactsDir, launchChromium, pageProblems } from '../support/browser.js';
import { cleanupByLabel, testRun } from '../support/docker-cleanup.js';
import { GatewayHarness, httpGet } from '../support/gateway-harness.js';
import { waitFor } from '../support/wait-for.js';

const run = testRun();
const app = `ui${run.id}`;
const other = `ui${run.id}-b`;
const T = { timeout: 60_000 };
/** Every wait in the page is bounded by this unless it says otherwise. */
const WAIT_MS = 20_000;
const card = (name: string) => `article.app-card[data-app="${name}"]`;

describe('dashboard in a real browser', () => {
  let h: GatewayHarness;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  let shots: string;
  let loads = 0;

  /** A test body that, when it fails, leaves a screenshot of the page as it was. */
  const inPage = (id: string, body: () => Promise<void>) => async () => {
    try {
      await body();
    } catch (err) {
      await page?.screenshot({ path: join(shots, `failed-${id}.png`), fullPage: true }).catch(() => undefined);
      if (problems?.length) (err as Error).message += `\nin the page: ${problems.join('; ')}`;
      throw err;
    }
  };

  before(async () => {
    shots = await artifactsDir('browser');
    h = await GatewayHarness.create(run.labels);
    // Long idle timeouts: the app must stop because the UI says so, not by itself.
    await h.writeConfig('defaults:\n  idleTimeout: 10m\n');
    await h.writeApp('a.yaml', testAppYaml(app, 'env: {LOG_REQUESTS: "1"}\n'));
    // Chromium starts while the gateway does; a browser launched is kept for after() whatever failed.
    const [started, launched] = await Promise.allSettled([h.start(), launchChromium()]);
    if (launched.status === 'fulfilled') browser = launched.value;
    if (started.status === 'rejected') throw started.reason;
    if (launched.status === 'rejected') throw launched.reason;
    context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    problems = pageProblems(page);
    page.on('load', () => loads++);
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await h?.dispose();
    await cleanupByLabel(run.label);
  });

  test('the admin listener serves the page with a strict policy, and nothing outside its files', T, inPage('01', async () => {
    const res = await fetch(`${h.adminUrl}/`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    const csp = res.headers.get('content-security-policy') ?? '';
    for (const directive of ["default-src 'self'", "connect-src 'self'", "img-src 'self' data:", "style-src 'self'", "script-src 'self'"]) assert.ok(csp.includes(directive), csp);
    const js = await fetch(`${h.adminUrl}/ui/js/main.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);
    for (const path of ['/ui/..%2f..%2fpackage.json', '/ui/..%2f..%2f..%2fsrc%2fui%2fserve-ui.ts', '/ui/.hidden.js', '/ui/nope.js']) {
      assert.equal((await fetch(`${h.adminUrl}${path}`)).status, 404, path);
    }
    // Dot segments are resolved by the client already; what is left is outside /ui/ and goes to the API.
    assert.equal((await fetch(`${h.adminUrl}/ui/%2e%2e/%2e%2e/package.json`)).status, 401);
    // The API is untouched: still a token for everything under /v1/.
    assert.equal((await fetch(`${h.adminUrl}/v1/apps`)).status, 401);
  }));

  test('signing in: a wrong token is refused, the right one shows the gateway and its apps', T, inPage('02', async () => {
    await page.goto(`${h.adminUrl}/`);
    await page.fill('#token-input', 'berth_not-the-token');
    await page.click('#sign-in-button');
    await page.waitForFunction(() => document.getElementById('sign-in-error')?.textContent?.includes('refused'));
    await page.screenshot({ path: join(shots, '00-sign-in-refused.png') });
    await page.fill('#token-input', h.adminToken);
    await page.click('#sign-in-button');
    await page.waitForSelector('#summary:not([hidden])');
    await page.waitForSelector(`${card(app)}[data-state="stopped"]`);
    // An app applied through the API now appears without a reload (the stream's "applied" event).
    const applied = await h.api('POST', '/v1/apps', { body: testAppYaml(other, 'scale: {min: 0, max: 3}\n'), contentType: 'application/yaml' });
    assert.equal(applied.status, 200, applied.text);
    await page.waitForSelector(`${card(other)}`);
    await page.waitForSelector('#stream-status[data-status="live"]');
    await page.waitForFunction(() => document.querySelector('#summary')?.textContent?.includes('healthy'));
    const route = await page.getAttribute(`${card(app)} .routes a`, 'href');
    assert.equal(route, `http://127.0.0.1:${h.port}/s/${app}/`);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('berth.token')), h.adminToken);
    await page.screenshot({ path: join(shots, '01-signed-in.png'), fullPage: true });
  }));

  test('an app goes from stopped to running after a request through the proxy, without a reload', T, inPage('03', async () => {
    const loadsBefore = loads;
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    const reply = await httpGet(h.port, appPath(app, '/ping'));
    assert.equal(reply.status, 200);
    await page.waitForSelector(`${card(app)}[data-state="running"]`);
    await page.waitForFunction((name) => document.querySelector(`article[data-app="${name}"] .badge`)?.textContent === 'running', app);
    // The idle countdown and the cold-start time come with the state.
    await page.waitForFunction((name) => /in \d/.test(document.querySelector(`article[data-app="${name}"]`)?.textContent ?? ''), app);
    assert.equal(loads, loadsBefore, 'the page was not loaded again');
    assert.equal(await page.evaluate(() => (window as unknown as { marker: number }).marker), 42, 'same document');
    await page.screenshot({ path: join(shots, '02-running.png'), fullPage: true });
  }));

  test("the app's logs follow live: a line it prints now appears", T, inPage('04', async () => {
    await page.click(`${card(app)} h3 a`);
    await page.waitForSelector('#app-title');
    await page.click('#tab-logs');
    await page.waitForFunction(() => document.getElementById('log-status')?.textContent?.startsWith('Following'));
    const marker = `/dashboard-follow-${run.id}`;
    assert.equal((await httpGet(h.port, appPath(app, marker))).status, 200);
    await page.waitForFunction((text) => document.getElementById('log-output')?.textContent?.includes(text), `GET ${marker}`);
    await page.screenshot({ path: join(shots, '03-logs.png'), fullPage: true });
  }));

  test('the request history lists the requests and filters by status class', T, inPage('05', async () => {
    assert.equal((await httpGet(h.port, appPath(app, '/status/503'))).status, 503);
    await page.click('#tab-requests');
    // History is written in batches; Refresh until the 503 is there (bounded).
    await waitFor('the 503 in the history table', async () => {
      await page.click('button:has-text("Refresh")');
      await page.waitForSelector('.history, .empty');
      return (await page.textContent('#tab-panel'))?.includes('/status/503');
    }, { timeoutMs: WAIT_MS, intervalMs: 500 });
    await page.selectOption('#history-status', '5xx');
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('.history tbody tr')];
      return rows.length > 0 && rows.every((r) => r.textContent?.includes('503'));
    });
    await page.screenshot({ path: join(shots, '04-requests.png'), fullPage: true });
  }));

  test('the Requests tab follows new requests live, query string and container name included, without Refresh', T, inPage('05b', async () => {
    await page.selectOption('#history-status', '');
    await page.waitForSelector('#history-live:checked');
    const marker = `/live-${run.id}?q=follow`;
    assert.equal((await httpGet(h.port, appPath(app, marker))).status, 200);
    // No click: the `request` event reloads the first page (history flush + at most 1 s).
    await page.waitForFunction((text) => document.querySelector('#tab-panel .history')?.textContent?.includes(text), marker, { timeout: WAIT_MS });
    const instance = await page.evaluate((text) => {
      const row = [...document.querySelectorAll('.history tbody tr')].find((r) => r.textContent?.includes(text));
      return row?.lastElementChild?.textContent ?? '';
    }, marker);
    assert.equal(instance, `berth-${app}-0`, "the container's name, not its id");
  }));

  test('stopping from the UI stops the container', T, inPage('06', async () => {
    await page.click('#tab-status');
    await page.waitForSelector('#tab-panel .facts');
    await page.click('button[data-action="stop"]');
    await page.waitForFunction(() => document.querySelector('#app-title .badge')?.textContent === 'stopped', undefined, { timeout: 30_000 });
    const container = await waitFor('the container to be stopped', async () => {
      const info = await inspectAppContainer(app, run.label);
      return info && !info.State.Running ? info : undefined;
    });
    assert.equal(container.State.Running, false);
    await page.waitForSelector('.toast[data-kind="ok"]');
    await page.screenshot({ path: join(shots, '05-stopped.png'), fullPage: true });
  }));

  test('delete asks first: cancel keeps the app, confirm deletes it', T, inPage('07', async () => {
    await page.goto(`${h.adminUrl}/#/apps/${other}`);
    await page.waitForSelector('button[data-action="delete"]');
    await page.click('button[data-action="delete"]');
    await page.waitForSelector('#confirm-dialog[open]');
    await page.screenshot({ path: join(shots, '06-delete-dialog.png') });
    await page.click('#confirm-cancel');
    await page.waitForSelector('#confirm-dialog', { state: 'hidden' });
    assert.equal((await h.api('GET', `/v1/apps/${other}`)).status, 200, 'cancel deleted nothing');
    await page.click('button[data-action="delete"]');
    await page.click('#confirm-ok');
    await waitFor('the app to be deleted', async () => (await h.api('GET', `/v1/apps/${other}`)).status === 404);
    await page.waitForSelector(`${card(app)}`);
    await page.waitForSelector(`${card(other)}`, { state: 'detached' });
  }));

  test('usable at phone width: nothing wider than the screen', T, inPage('08', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${h.adminUrl}/#/`);
    await page.waitForSelector(card(app));
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
    await page.screenshot({ path: join(shots, '07-phone-overview.png'), fullPage: true });
    await page.goto(`${h.adminUrl}/#/apps/${app}`);
    await page.waitForSelector('#tab-panel .facts');
    const detailOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(detailOverflow <= 0, `the detail page is ${detailOverflow}px wider than the screen`);
    await page.screenshot({ path: join(shots, '08-phone-detail.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(shots, '09-phone-detail-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });
  }));

  test('keyboard: the controls are reachable with Tab and show focus', T, inPage('09', async () => {
    await page.setViewportSize({ width: 1280, height: 860 });
    await page.goto(`${h.adminUrl}/#/apps/${app}`);
    await page.waitForSelector('button[data-action="start"]');
    await page.focus('button[data-action="start"]');
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      return { tag: el.tagName, action: el.dataset.action, outline: getComputedStyle(el).outlineStyle };
    });
    assert.deepEqual(focused, { tag: 'BUTTON', action: 'stop', outline: 'solid' });
    // Every button is a <button>, and every form control has a label.
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll('input, select')].filter((el) => !(el as HTMLInputElement).labels?.length && !el.getAttribute('aria-label')).map((el) => el.id || el.outerHTML),
    );
    assert.deepEqual(unlabelled, []);
  }));

  test('no script errors and no policy violations on the way', () => {
    assert.deepEqual(problems, []);
  });
});
