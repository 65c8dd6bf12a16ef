// The dashboard's HTTPS certificates, in Chromium: a certificate from files shows as
// valid with its file, and an ACME order that fails (the directory refuses the
// connection, acme-client retries for about 15 s) shows as failed with its reason and
// when it is retried. Nothing here starts an app: the gateway runs on the fake engine
// (FakeGatewayBed), so the file runs beside the engine lane, its ~15 s of acme-client
// retries out of the engine lane's one-at-a-time queue.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { Gateway } from '../../src/gateway/gateway.js';
import { artifactsDir, launchChromium, pageProblems } from '../support/browser.js';
import { FakeGatewayBed } from '../support/fake-gateway.js';
import { makeCa, makeLeaf } from '../support/openssl-certs.js';
import { waitFor } from '../support/wait-for.js';

const run = { id: randomBytes(3).toString('hex') };
const app = `cert${run.id}`;
const fileHost = `${app}.example.test`;
const acmeHost = `${app}-acme.example.test`;
const T = { timeout: 90_000 };

describe('dashboard: HTTPS certificates', () => {
  let bed: FakeGatewayBed | undefined;
  let gateway: Gateway;
  let adminUrl = '';
  let browser: Browser | undefined;
  let page: Page;
  let problems: string[];
  let dir = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-ui-tls-'));
    const ca = await makeCa(dir);
    const pair = await makeLeaf(dir, ca, 'site', [fileHost]);
    // Nothing listens on 127.0.0.1:1: every ACME order fails at once, with the reason recorded.
    bed = await FakeGatewayBed.create(`tls:\n  listen: 127.0.0.1:0\n  certificates: [{cert: ${pair.cert}, key: ${pair.key}}]\n  acme: {email: ops@example.test, directory: "https://127.0.0.1:1/dir"}\n`);
    gateway = await bed.start();
    adminUrl = `http://127.0.0.1:${gateway.adminAddress!.port}`;
    const applied = await bed.api(gateway, 'POST', '/v1/apps', { apiVersion: 'berth/v1', name: app, image: 'fake/app:latest', port: 8080, routes: [{ host: fileHost }, { host: acmeHost }] });
    assert.ok(applied.status === 200 || applied.status === 201, JSON.stringify(applied.json));
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 860 } })).newPage();
    page.setDefaultTimeout(20_000);
    problems = pageProblems(page);
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await bed?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('the certificates table shows the file certificate and the failed ACME order with its reason', T, async () => {
    await waitFor('the failed order in the API', async () => ((await bed!.api(gateway, 'GET', '/v1/certificates')).json.items as Array<{ host?: string; status: string }>).find((c) => c.host === acmeHost && c.status === 'failed'), { timeoutMs: 45_000, intervalMs: 250 });
    await page.goto(`${adminUrl}/`);
    await page.fill('#token-input', bed!.adminToken);
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
