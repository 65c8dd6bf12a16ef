// An app's page in Debian's Chromium against a gateway on the fake engine, while the
// app changes under it: an apply that raises scale.max reaches the scale form (its max
// was the one the page opened with, so the browser refused the new counts), and an app
// deleted and made again gets its actions back, without a reload.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import type { Gateway } from '../../src/gateway/gateway.js';
import { launchChromium, pageProblems } from '../support/browser.js';
import { FakeGatewayBed } from '../support/fake-gateway.js';

const WAIT_MS = 15_000;
const spec = (max: number) => ({ apiVersion: 'berth/v1', name: 'web', image: 'fake/web:1', port: 8080, scale: { min: 0, max } });

describe('an app page follows its app', () => {
  let bed: FakeGatewayBed;
  let gateway: Gateway;
  let browser: Browser;
  let page: Page;
  let problems: string[];

  before(async () => {
    bed = await FakeGatewayBed.create();
    gateway = await bed.start();
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec(3))).status, 200);
    browser = await launchChromium();
    page = await browser.newPage();
    page.setDefaultTimeout(WAIT_MS);
    problems = pageProblems(page);
    const admin = `http://127.0.0.1:${gateway.adminAddress!.port}`;
    await page.goto(`${admin}/`);
    await page.fill('#token-input', bed.adminToken);
    await page.click('#sign-in-button');
    await page.waitForSelector('#stream-status[data-status="live"]');
    await page.goto(`${admin}/#/apps/web`);
    await page.waitForSelector('#replicas-web[max="3"]');
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await bed?.dispose();
  });

  test('an apply raising scale.max reaches the scale form', async () => {
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec(5))).status, 200);
    await page.waitForSelector('#replicas-web[max="5"]');
    assert.deepEqual(problems, []);
  });

  test('an app deleted and made again has its actions back', async () => {
    assert.equal((await bed.api(gateway, 'DELETE', '/v1/apps/web')).status, 200);
    await page.waitForSelector('#replicas-web', { state: 'detached' });
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec(2))).status, 200);
    await page.waitForSelector('#replicas-web[max="2"]');
    assert.equal(await page.isEnabled('button[data-action="delete"]'), true);
    assert.deepEqual(problems, []);
  });
});
