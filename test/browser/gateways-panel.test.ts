// The dashboard's gateways panel, in Debian's Chromium: two gateways on one PostgreSQL
// store, the dashboard of the one that does not lead lists both, names the leader and
// marks itself; an app's requests name the gateway that served each. The panel stays
// hidden for a lone gateway (the other dashboard tests).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { appPath, testAppJson } from '../support/app-spec.js';
import { launchChromium, pageProblems } from '../support/browser.js';
import { timedGet } from '../support/http-requests.js';
import { testRun } from '../support/docker-cleanup.js';
import { disposeGateways, GatewayProcess } from '../support/gateway-process.js';
import { createTestDatabase, databaseExists, pgSkip, type TestDatabase } from '../support/pg-test-db.js';
import { waitFor } from '../support/wait-for.js';

const skip = pgSkip();
const run = testRun();
const app = `ui${run.id}-app`;

describe('the gateways panel', { skip, timeout: 90_000 }, () => {
  let db: TestDatabase | undefined;
  const gws: GatewayProcess[] = [];
  let browser: Browser | undefined;

  before(async () => {
    // Chromium starts while the gateways do; a browser launched is kept for after() whatever failed.
    const launching = launchChromium();
    launching.catch(() => undefined); // awaited below; a failure here is not also an unhandled rejection
    try {
      db = await createTestDatabase();
      for (const id of ['a', 'b']) {
        gws.push(await GatewayProcess.start({ apps: {}, store: db.url, appsNetwork: 'none', env: { BERTH_GATEWAY_ID: `ui-${id}-${run.id}` } }));
        if (id === 'a') await waitFor('A leads', async () => (await gws[0]!.api('GET', '/v1/gateways')).json?.leader === `ui-a-${run.id}`, { timeoutMs: 10_000 });
      }
    } finally {
      browser = await launching.catch(() => undefined);
    }
    browser ??= await launching;
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await disposeGateways(gws, [app], `berth-test-run=${run.id}`);
    if (db) {
      await db.drop();
      assert.equal(await databaseExists(db.name), false);
    }
  });

  test("B's dashboard lists both gateways, A as leader, B as itself", async () => {
    const b = gws[1]!;
    const page = await browser!.newPage();
    const problems = pageProblems(page);
    page.setDefaultTimeout(20_000);
    await page.goto(`http://127.0.0.1:${b.adminPort}/`);
    await page.fill('#token-input', b.adminToken);
    await page.click('#sign-in-button');
    await page.waitForSelector('#gateways:not([hidden]) tbody tr:nth-child(2)');
    const rows = await page.$$eval('#gateways tbody tr', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent?.trim() ?? '')));
    assert.deepEqual(
      rows.map((r) => [r[0], r[1]]).sort(),
      [
        [`ui-a-${run.id}`, 'leader'],
        [`ui-b-${run.id} (this one)`, 'follower'],
      ],
    );
    assert.match(rows[0]![4]!, /^\d+\.\d+\.\d+/, 'the version is shown');

    // An app's requests name the gateway that served each: here, B.
    const applied = await gws[0]!.api('POST', '/v1/apps', testAppJson(app, { 'berth-test': 'true', 'berth-test-run': run.id }));
    assert.ok(applied.status === 200 || applied.status === 201, JSON.stringify(applied.json));
    await waitFor('B serves it', async () => (await timedGet(b.proxyPort, appPath(app), { timeoutMs: 30_000 })).status === 200, { timeoutMs: 30_000 });
    await waitFor('the request in the history', async () => ((await b.api('GET', `/v1/apps/${app}/history`)).json?.items?.length ?? 0) > 0, { timeoutMs: 10_000 });
    await page.goto(`http://127.0.0.1:${b.adminPort}/#/apps/${app}/requests`);
    await page.waitForSelector('table.history th:has-text("Gateway")');
    const served = await page.$$eval('table.history tbody tr td:last-child', (tds) => tds.map((td) => td.textContent));
    assert.ok(served.length >= 1 && served.every((g) => g === `ui-b-${run.id}`), JSON.stringify(served));
    assert.deepEqual(problems, [], 'no errors in the page');
  });
});
