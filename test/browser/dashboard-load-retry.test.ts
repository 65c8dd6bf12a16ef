// The dashboard in Debian's Chromium when its own files or its first API read fail to
// arrive: a module whose fetch fails (a cut connection, or Chromium's
// ERR_NETWORK_CHANGED, which it gives every request under way when Docker adds or
// removes a container's interface) used to leave a blank page for good. The page now
// reloads itself a few times, then says what failed; a read the API never answered is
// asked again; a change is never sent twice.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Gateway } from '../../src/gateway/gateway.js';
import { launchChromium, pageProblems } from '../support/browser.js';
import { FakeGatewayBed } from '../support/fake-gateway.js';

const WAIT_MS = 20_000;

/**
 * The page loads a test sees, and the fetches Chromium failed with ERR_NETWORK_CHANGED: the
 * engine lane starts containers beside these tests, and each such failure may cost the page
 * one reload more than the test's own failures do (boot.js retries it like any other).
 */
function countLoads(page: Page): { documents: number; networkChanged: number } {
  const loads = { documents: 0, networkChanged: 0 };
  page.on('request', (req) => {
    if (req.isNavigationRequest()) loads.documents++;
  });
  page.on('requestfailed', (req) => {
    if (req.failure()?.errorText === 'net::ERR_NETWORK_CHANGED') loads.networkChanged++;
  });
  return loads;
}

/** Fails the first `times` fetches matching `pattern` as `how` and lets later ones through; gives the count of fetches so far. */
async function failFirst(page: Page, pattern: string, times = 1, how = 'connectionreset'): Promise<() => number> {
  let fetches = 0;
  await page.route(pattern, async (route) => {
    if (fetches++ < times) await route.abort(how);
    else await route.continue();
  });
  return () => fetches;
}

function assertLoads(loads: { documents: number; networkChanged: number }, expected: number, what: string): void {
  assert.ok(loads.documents >= expected && loads.documents <= expected + loads.networkChanged, `${what}: ${loads.documents} loads, ${loads.networkChanged} fetches failed as the network changed`);
}

describe('the dashboard when its files fail to arrive', () => {
  let bed: FakeGatewayBed;
  let gateway: Gateway;
  let browser: Browser;
  let admin = '';
  const contexts: BrowserContext[] = [];

  async function freshPage(): Promise<Page> {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    return page;
  }

  before(async () => {
    bed = await FakeGatewayBed.create();
    gateway = await bed.start();
    admin = `http://127.0.0.1:${gateway.adminAddress!.port}`;
    browser = await launchChromium();
  });

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close().catch(() => undefined);
    await bed?.dispose();
  });

  test('a module that fails twice: the page reloads itself and the sign-in form shows', async () => {
    const page = await freshPage();
    const loads = countLoads(page);
    const fetches = await failFirst(page, '**/ui/js/sparkline.js', 2, 'internetdisconnected');
    await page.goto(`${admin}/`);
    await page.waitForSelector('#token-input', { state: 'visible' });
    assert.ok(fetches() >= 3, 'failed twice, then fetched');
    assertLoads(loads, 3, 'the first load and two reloads');
    assert.equal(await page.isHidden('#load-failed'), true);
    // The count starts afresh once the page ran: a later failure gets its retries again.
    assert.equal(await page.evaluate(() => sessionStorage.getItem('berth.loadRetries')), null);
    await page.fill('#token-input', bed.adminToken);
    await page.click('#sign-in-button');
    await page.waitForSelector('#summary:not([hidden])');
  });

  test('a module that never arrives: after its retries the page says so and offers a reload', async () => {
    const page = await freshPage();
    const problems = pageProblems(page);
    const loads = countLoads(page);
    await page.route('**/ui/js/store.js', (route) => route.abort('connectionreset'));
    await page.goto(`${admin}/`);
    await page.waitForSelector('#load-failed', { state: 'visible' });
    // Retries are counted whatever failed, so this count is exact.
    assert.equal(loads.documents, 5, 'the first load and four reloads, then no more');
    assert.match((await page.textContent('#load-failed')) ?? '', /did not load/);
    assert.match((await page.textContent('#load-failed-what')) ?? '', /\/ui\/js\/main\.js/);
    assert.equal(await page.isHidden('#sign-in'), true);
    assert.ok(problems.some((p) => p.includes('store.js') && p.includes('ERR_CONNECTION_RESET')), problems.join('\n'));
    // The gateway is back, but one more fetch fails on the way (as when a container starts on the
    // host): the button gives the page its retries afresh, and it loads whole.
    await page.unroute('**/ui/js/store.js');
    const lastFetches = await failFirst(page, '**/ui/js/store.js');
    await page.click('#load-failed-reload');
    await page.waitForSelector('#token-input', { state: 'visible' });
    assert.equal(await page.isHidden('#load-failed'), true);
    assert.equal(lastFetches(), 2, 'failed once, then fetched on the retry');
    assertLoads(loads, 7, 'the reload asked for, and one retry');
  });

  test('the script that retries comes in the page: none of its own to fail, and the page policy runs it', async () => {
    const page = await freshPage();
    const problems = pageProblems(page);
    let bootFetches = 0;
    const loads = countLoads(page);
    page.on('request', (req) => {
      if (new URL(req.url()).pathname === '/ui/js/boot.js') bootFetches++;
    });
    // Were the page to fetch boot.js, this is what a dropped connection would do to it.
    await page.route('**/ui/js/boot.js', (route) => route.abort('connectionreset'));
    await failFirst(page, '**/ui/js/store.js');
    await page.goto(`${admin}/`);
    await page.waitForSelector('#token-input', { state: 'visible' });
    assert.equal(bootFetches, 0, 'boot.js is not fetched');
    assertLoads(loads, 2, 'the first load failed a module; the script in the page reloaded it');
    // A policy that refused the inline script would show as a console error ("Refused to execute inline script").
    assert.deepEqual(problems.filter((p) => !p.includes('store.js')), []);
  });

  test('a main.js that arrives empty (a cut answer taken whole, no error fired): the page sees it never ran and reloads', async () => {
    const page = await freshPage();
    const loads = countLoads(page);
    let served = 0;
    await page.route('**/ui/js/main.js', async (route) => {
      if (served++ === 0) await route.fulfill({ status: 200, contentType: 'text/javascript', body: '' });
      else await route.continue();
    });
    await page.goto(`${admin}/`);
    await page.waitForSelector('#token-input', { state: 'visible' });
    assertLoads(loads, 2, 'the empty module, then one reload');
    assert.equal(await page.isHidden('#load-failed'), true);
    assert.equal(await page.isHidden('#page-error'), true);
  });

  test('a reload whose request is dropped (the old page stays): the page notices and reloads again', async () => {
    const page = await freshPage();
    const loads = countLoads(page);
    let documents = 0;
    await page.route(`${admin}/`, async (route) => {
      // The first reload's request is dropped: Chromium keeps the page it was leaving.
      if (documents++ === 1) await route.abort('aborted');
      else await route.continue();
    });
    await failFirst(page, '**/ui/js/store.js');
    await page.goto(`${admin}/`);
    await page.waitForSelector('#token-input', { state: 'visible' });
    assertLoads(loads, 3, 'the first load, the dropped reload, and the one after it');
    assert.equal(await page.isHidden('#load-failed'), true);
  });

  test('a read the API never answered is asked again; a change is sent once', async () => {
    const page = await freshPage();
    await page.goto(`${admin}/`);
    await page.waitForSelector('#token-input', { state: 'visible' });
    let versionCalls = 0;
    await page.route('**/v1/version', async (route) => {
      versionCalls++;
      if (versionCalls === 1) await route.abort('internetdisconnected');
      else await route.continue();
    });
    await page.fill('#token-input', bed.adminToken);
    await page.click('#sign-in-button');
    await page.waitForSelector('#summary:not([hidden])');
    assert.equal(versionCalls, 2, 'the sign-in read, failed once, then answered');

    // A POST whose answer never came is not sent again: the page reports it.
    let posts = 0;
    await page.route('**/v1/**', async (route) => {
      if (route.request().method() === 'POST') {
        posts++;
        await route.abort('connectionreset');
      } else {
        await route.continue();
      }
    });
    const outcome = await page.evaluate(async (module) => {
      const { api } = (await import(module)) as { api: (path: string, options: { method: string }) => Promise<unknown> };
      try {
        await api('/v1/apps/none/start', { method: 'POST' });
        return 'answered';
      } catch (err) {
        return (err as Error).name;
      }
    }, '/ui/js/api.js');
    assert.equal(outcome, 'TypeError');
    assert.equal(posts, 1);
  });

  test('a module that throws while it loads: the page says what failed and where, once, with no reload loop', async () => {
    const page = await freshPage();
    const loads = countLoads(page);
    await page.route('**/ui/js/summary.js', (route) =>
      route.fulfill({ status: 200, contentType: 'text/javascript', body: "throw new Error('summary broke at load');\nexport const mountSummary = () => undefined;\n" }),
    );
    await page.goto(`${admin}/`);
    await page.waitForSelector('#page-error', { state: 'visible' });
    assert.match((await page.textContent('#page-error-text')) ?? '', /summary broke at load \(\/ui\/js\/summary\.js:1\)/);
    assert.equal(await page.textContent('#page-error-more'), '');
    // The graph never ran: no sign-in form, and the page does not reload itself (a reload would throw again).
    assert.equal(await page.isHidden('#sign-in'), true);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assertLoads(loads, 1, 'no reload of a page whose module threw');
    await page.unroute('**/ui/js/summary.js');
    await page.click('#page-error-reload');
    await page.waitForSelector('#token-input', { state: 'visible' });
    assert.equal(await page.isHidden('#page-error'), true);
  });

  test('an error after sign-in (a failed task nobody waited for): the dashboard stays and says so; later ones are counted', async () => {
    const page = await freshPage();
    await page.goto(`${admin}/`);
    await page.fill('#token-input', bed.adminToken);
    await page.click('#sign-in-button');
    await page.waitForSelector('#summary:not([hidden])');
    assert.equal(await page.isHidden('#page-error'), true, 'a dashboard that works shows no error');
    await page.evaluate(() => {
      void Promise.reject(new Error('render met an unexpected value'));
    });
    await page.waitForSelector('#page-error', { state: 'visible' });
    assert.equal(await page.textContent('#page-error-text'), 'render met an unexpected value');
    await page.evaluate(() => {
      setTimeout(() => {
        throw new Error('second');
      }, 0);
      void Promise.reject('third');
    });
    await page.waitForFunction(() => document.getElementById('page-error-more')?.textContent === ' (and 2 more errors)');
    assert.equal(await page.textContent('#page-error-text'), 'render met an unexpected value', 'the first error stays shown');
    assert.equal(await page.isVisible('#summary'), true);
  });
});
