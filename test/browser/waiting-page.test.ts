// The please-wait page in Debian's Chromium, served by berth's own page builder and
// status endpoint beside a stand-in for the activator: an app deleted while a browser
// waits ends the wait with berth's answer for the address (it polled forever), and a
// failure reason an app chose is shown as text.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { handleBerthEndpoint } from '../../src/proxy/berth-endpoints.js';
import { sendFailure } from '../../src/proxy/error-page.js';
import type { PublicStatus, UpstreamSource } from '../../src/proxy/upstream.js';
/** Routes under which every app is reached (these tests are not about hosts). */
const everywhere = { reaches: () => true };
import { BERTH_PATH_PREFIX, sendWaitingPage } from '../../src/proxy/waiting-page.js';
import { launchChromium } from '../support/browser.js';

const WAIT_MS = 15_000;

describe('the waiting page in a browser', { timeout: 60_000 }, () => {
  /** app → its status; absent: no such app. */
  const apps = new Map<string, PublicStatus>();
  let server: Server;
  let url = '';
  let browser: Browser;

  before(async () => {
    const upstreams = { publicStatus: (app: string) => apps.get(app) } as unknown as UpstreamSource;
    server = createServer((req, res) => {
      if (req.url!.startsWith(BERTH_PATH_PREFIX)) return handleBerthEndpoint(req, res, upstreams, everywhere, '127.0.0.1');
      const app = req.url!.split('/')[2] ?? '';
      if (!apps.has(app)) return sendFailure(req, res, { status: 404, code: 'no_route', reason: `no app answers ${req.url}` });
      sendWaitingPage(res, { app });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  test('an app deleted while the page waits: the page stops waiting and shows the answer for the address', async () => {
    apps.set('gone', { state: 'starting', ready: false });
    const page = await browser.newPage();
    page.setDefaultTimeout(WAIT_MS);
    await page.goto(`${url}/s/gone/`);
    await page.waitForSelector('.spin');
    apps.delete('gone');
    await page.waitForFunction(() => document.title.startsWith('404'));
    assert.match((await page.textContent('body')) ?? '', /no app answers \/s\/gone\//);
    await page.close();
  });

  test('a failure reason is shown as text, its markup inert', async () => {
    apps.set('bad', { state: 'starting', ready: false });
    const page = await browser.newPage();
    page.setDefaultTimeout(WAIT_MS);
    await page.goto(`${url}/s/bad/`);
    const reason = '<img src=x onerror="window.pwned=1">exit 3';
    apps.set('bad', { state: 'failed', ready: false, error: reason });
    await page.waitForSelector('body.failed #reason');
    assert.equal(await page.textContent('#reason'), reason);
    assert.equal(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned), undefined);
    assert.equal(await page.$('#reason img'), null);
    await page.close();
  });
});
