// An app's last request survives a gateway restart: the idle timeout counts on
// from it (an app idle for 50 of its 60 minutes has 10 left, not a fresh 60),
// and its status still says when it was last used instead of "never".
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Gateway } from '../../src/gateway/gateway.js';
import { lastRequestChanges } from '../../src/gateway/last-request-keeper.js';
import { openStore } from '../../src/store/open-store.js';
import { FakeGatewayBed } from '../support/fake-gateway.js';
import { eventually } from '../support/fake-activator.js';
import { httpGet } from '../support/gateway-harness.js';

const MIN = 60_000;
const spec = { apiVersion: 'berth/v1', name: 'web', image: 'fake/web:1', port: 8080, readiness: { path: '/healthz' }, startTimeout: '5s', idleTimeout: '60m' };

async function statusOf(bed: FakeGatewayBed, gateway: Gateway): Promise<{ state: string; lastActivity?: string; idleAt?: string }> {
  const got = await bed.api(gateway, 'GET', '/v1/apps/web');
  assert.equal(got.status, 200);
  return got.json.status;
}

/** Writes the store as a previous gateway would have left it. */
async function saveLastRequest(bed: FakeGatewayBed, atMs: number): Promise<void> {
  const store = await openStore(bed.storePath);
  try {
    await store.saveLastRequests([['web', atMs]], []);
  } finally {
    await store.close();
  }
}

/** A bed with `web` applied, started by one request, and the gateway stopped cleanly (the container left running). */
async function usedThenStopped(t: { after(fn: () => Promise<void>): void }): Promise<FakeGatewayBed> {
  const bed = await FakeGatewayBed.create();
  t.after(() => bed.dispose());
  const first = await bed.start();
  assert.equal((await bed.api(first, 'POST', '/v1/apps', spec)).status, 200);
  assert.equal((await httpGet(first.proxyAddress!.port, '/session/web/')).status, 200);
  await bed.stop(first);
  assert.equal(bed.runtime.running('web').length, 1, 'the container outlives the gateway');
  return bed;
}

describe("an app's last request across a gateway restart", () => {
  it('is saved at a clean stop and shown after the restart, not "never"', async (t) => {
    const before = Date.now();
    const bed = await usedThenStopped(t);
    const next = await bed.start();
    const status = await statusOf(bed, next);
    assert.equal(status.state, 'running');
    assert.ok(status.lastActivity, 'the last request is known after the restart');
    const at = Date.parse(status.lastActivity);
    assert.ok(at >= before - 1_000 && at <= Date.now(), `last request ${status.lastActivity} lies within the test`);
  });

  it('counts the idle timeout on from it: idle 50 of 60 minutes leaves 10', async (t) => {
    const bed = await usedThenStopped(t);
    await saveLastRequest(bed, Date.now() - 50 * MIN);
    const next = await bed.start();
    const status = await statusOf(bed, next);
    assert.equal(status.state, 'running');
    const idleInMs = Date.parse(status.idleAt!) - Date.now();
    assert.ok(idleInMs > 9 * MIN && idleInMs <= 10 * MIN + 1_000, `idle in ${Math.round(idleInMs / 1000)} s, not a fresh hour`);
    assert.ok(Math.abs(Date.parse(status.lastActivity!) - (Date.now() - 50 * MIN)) < 30_000);
  });

  it('stops at once an app whose idle timeout ran out while the gateway was down', async (t) => {
    const bed = await usedThenStopped(t);
    await saveLastRequest(bed, Date.now() - 61 * MIN);
    const next = await bed.start();
    await eventually('web was stopped as idle', () => bed.runtime.running('web').length === 0, 5_000);
    assert.equal((await statusOf(bed, next)).state, 'stopped');
  });

  it("forgets a deleted app's time, so an app made again by that name starts at never", async (t) => {
    const bed = await usedThenStopped(t);
    const next = await bed.start();
    assert.equal((await bed.api(next, 'DELETE', '/v1/apps/web')).status < 300, true);
    await bed.stop(next);
    const store = await openStore(bed.storePath);
    try {
      assert.deepEqual([...(await store.lastRequests()).keys()], []);
    } finally {
      await store.close();
    }
  });
});

describe('a saved last request of an app not declared at start', () => {
  it('is not handed to a new app made later by that name', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    await saveLastRequest(bed, Date.now() - 50 * MIN);
    const gateway = await bed.start();
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec)).status, 200);
    assert.equal((await statusOf(bed, gateway)).lastActivity, undefined, 'a new app has had no request');
  });
});

describe('lastRequestChanges', () => {
  it('writes the times that moved (past the drift of a clock read) and forgets the apps gone', () => {
    const saved = new Map([
      ['same', 1_000_000],
      ['moved', 1_000_000],
      ['gone', 5],
    ]);
    assert.deepEqual(
      lastRequestChanges(saved, [
        ['same', 1_000_400],
        ['moved', 1_060_000],
        ['new', 7],
      ]),
      { changed: [['moved', 1_060_000], ['new', 7]], gone: ['gone'] },
    );
  });
});

// The API's status names the idle timeout in force, so `berth get` and the dashboard can say
// "5m (the gateway's default)" rather than make a user read the gateway's config.
describe('the idle timeout in force, in the status', () => {
  it("is the spec's, else the gateway's default, and absent when the app never idles", async (t) => {
    const bed = await FakeGatewayBed.create('defaults:\n  idleTimeout: 7m\n');
    t.after(() => bed.dispose());
    const gateway = await bed.start();
    const { idleTimeout: _ownTimeout, ...withoutTimeout } = spec;
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', withoutTimeout)).status, 200);
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', { ...spec, name: 'own' })).status, 200);
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', { ...spec, name: 'always', scale: { min: 1, max: 1 } })).status, 200);
    const idleOf = async (name: string) => (await bed.api(gateway, 'GET', `/v1/apps/${name}`)).json.status?.idleTimeoutMs;
    assert.equal(await idleOf('web'), 7 * MIN);
    assert.equal(await idleOf('own'), 60 * MIN);
    assert.equal(await idleOf('always'), undefined);
  });
});
