// The dashboard's HTTPS certificates, in Chromium: a certificate from files shows as
// valid with its file, and an ACME order that fails (the directory refuses the
// connection, acme-client retries for about 15 s) shows as failed with its reason and
// when it is retried.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { APP_IMAGE } from '../support/images.js';
import { artifactsDir, launchChromium, pageProblems } from '../support/browser.js';
import { cleanupByLabel, testRun } from '../support/docker-cleanup.js';
import { GatewayHarness } from '../support/gateway-harness.js';
import { makeCa, makeLeaf } from '../support/openssl-certs.js';
import { waitFor } from '../support/wait-for.js';

const run = testRun();
const app = `cert${run.id}`;
const fileHost = `${app}.example.test`;
const acmeHost = `${app}-acme.example.test`;
const T = { timeout: 90_000 };

describe('dashboard: HTTPS certificates', () => {
  let h: GatewayHarness | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let problems: string[];
  let dir = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-ui-tls-'));
    const ca = await makeCa(dir);
    const pair = await makeLeaf(dir, ca, 'site', [fileHost]);
    h = await GatewayHarness.create(run.labels);
    // Nothing listens on 127.0.0.1:1: every ACME order fails at once, with the reason recorded.
    await h.writeConfig(`tls:\n  listen: 127.0.0.1:0\n  certificates: [{cert: ${pair.cert}, key: ${pair.key}}]\n  acme: {email: ops@example.test, directory: "https://127.0.0.1:1/dir"}\n`);
    await h.writeApp('app.yaml', `apiVersion: berth/v1\nname: ${app}\nimage: ${APP_IMAGE}\nport: 8080\nroutes:\n  - host: ${fileHost}\n  - host: ${acmeHost}\n`);
    await h.start();
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
    page.setDefaultTimeout(20_000);
    problems = pageProblems(page);
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await h?.dispose();
    await cleanupByLabel(run.label);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('the certificates table shows the file certificate and the failed ACME order with its reason', T, async () => {
    await waitFor('the failed order in the API', async () => ((await h!.api('GET', '/v1/certificates')).json.items as Array<{ host?: string; status: string }>).find((c) => c.host === acmeHost && c.status === 'failed'), { timeoutMs: 45_000, intervalMs: 250 });
    await page.goto(`${h!.adminUrl}/`);
    await page.fill('#token-input', h!.adminToken);
    await page.click('#sign-in-button');
    await page.waitForSelector('#certificates:not([hidden]) table');
    const row = (host: string) => page.locator(`#certificates tr[data-certificate="${host}"]`);
    assert.equal(await row(fileHost).locator('td').nth(1).textContent(), 'file');
    assert.equal(await row(fileHost).locator('.badge').textContent(), 'valid');
    assert.equal(await row(acmeHost).locator('.badge').textContent(), 'failed');
    const reason = (await row(acmeHost).locator('td').nth(4).textContent()) ?? '';
    assert.match(reason, /did not answer/);
    assert.match(reason, /retried in/);
    await page.screenshot({ path: join(await artifactsDir('browser'), 'certificates.png'), fullPage: true });
    assert.deepEqual(problems, []);
  });
});
