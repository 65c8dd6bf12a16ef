// An app's failure kept across a gateway restart: its state and lastError live in the
// controller's memory, so an app that had failed showed a plain `stopped` after a restart,
// its why gone. Whole gateways on one SQLite file and one fake engine (FakeGatewayBed):
// a restart is the next gateway on the same file, as Docker outlives a gateway.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failureKeeping } from '../../src/activator/kept-failure.js';
import { FailureKeeper } from '../../src/gateway/failure-keeper.js';
import type { FailureStore, StoredFailure } from '../../src/store/store.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { FakeGatewayBed } from '../support/fake-gateway.js';
import { httpGet } from '../support/gateway-harness.js';

const spec = (name: string, tag: string, extra: Record<string, unknown> = {}) => ({ apiVersion: 'berth/v1', name, image: `fake/${name}:${tag}`, port: 8080, readiness: { path: '/healthz' }, ...extra });

/** The engine's words: the admin API tells them, the app's clients are never told them. */
const ENGINE_WORDS = 'OCI runtime create failed: /var/lib/secret-host-path: exec format error';

async function publicStatus(gateway: Gateway, app: string): Promise<{ state: string; error?: string }> {
  const reply = await httpGet(gateway.proxyAddress!.port, `/_berth/status/${app}`);
  assert.equal(reply.status, 200, reply.body);
  return JSON.parse(reply.body) as { state: string; error?: string };
}

/** What the store keeps now, read on a connection of its own (the gateway holds the file's lock, not its rows). */
async function keptFailures(bed: FakeGatewayBed): Promise<string[]> {
  const store = new SqliteStore({ path: bed.storePath, historyThread: false });
  await store.open();
  try {
    return [...(await store.appFailures()).keys()];
  } finally {
    await store.close();
  }
}

describe('apps that failed, after a gateway restart', () => {
  it('show failed with their reason (full on the admin API, public to clients) and moment, until a start; a new spec forgets the failure', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    let gateway = await bed.start();
    // web: an engine refusal; loop: three of them (a crash loop); blog: one, then a new spec; late: one, then its container started while no gateway runs.
    const apps = ['web', 'loop', 'blog', 'late'];
    for (const app of apps) bed.runtime.behave(app, { startError: () => new Error(ENGINE_WORDS) });
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', apps.map((app) => spec(app, '1')))).status, 200);
    assert.equal((await httpGet(gateway.proxyAddress!.port, '/session/web/')).status, 502);
    for (let i = 0; i < 3; i++) await bed.api(gateway, 'POST', '/v1/apps/loop/start');
    assert.equal((await bed.api(gateway, 'GET', '/v1/apps/loop')).json.state, 'crashloop');
    await bed.api(gateway, 'POST', '/v1/apps/blog/start');
    await bed.api(gateway, 'POST', '/v1/apps/late/start');
    assert.equal((await bed.api(gateway, 'GET', '/v1/apps/late')).json.state, 'failed');
    assert.equal((await bed.api(gateway, 'GET', '/v1/apps/blog')).json.state, 'failed');
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec('blog', '2'))).status, 200);
    const before = (await bed.api(gateway, 'GET', '/v1/apps/web')).json;
    assert.equal(before.state, 'failed');
    assert.match(before.status.lastError, /secret-host-path: exec format error/);
    const shownBefore = await publicStatus(gateway, 'web');
    assert.equal(shownBefore.state, 'failed');
    assert.doesNotMatch(shownBefore.error ?? '', /secret-host-path/, 'the public form never carries the engine words');

    await bed.stop(gateway);
    bed.runtime.behave('late', {});
    const [late] = [...bed.runtime.containers.values()].filter((c) => c.instance.app === 'late');
    await bed.runtime.outsideStart(late!.instance.id);
    gateway = await bed.start();
    const after = (await bed.api(gateway, 'GET', '/v1/apps/web')).json;
    assert.equal(after.state, 'failed', 'not a plain stopped');
    assert.equal(after.status.lastError, before.status.lastError);
    assert.equal(after.status.since, before.status.since, 'the moment it failed, not the restart');
    assert.deepEqual(await publicStatus(gateway, 'web'), shownBefore, 'the clients are told the same public form');
    const loop = (await bed.api(gateway, 'GET', '/v1/apps/loop')).json;
    assert.equal(loop.state, 'failed', 'no backoff carried over: the next request tries a start');
    assert.match(loop.status.reason, /3 failures in a row/);
    assert.match(loop.status.lastError, /exec format error/);
    const blog = (await bed.api(gateway, 'GET', '/v1/apps/blog')).json;
    assert.equal(blog.state, 'stopped', 'an apply of a new spec forgets the failure of the old one');
    assert.equal(blog.status.lastError, undefined);
    assert.equal((await bed.api(gateway, 'GET', '/v1/apps/late')).json.state, 'running', 'a container found serving is adopted: the app is past its failure');

    // A failed app's next request tries a start, as before the restart; `berth start` too. Both work now, which forgets the failures.
    bed.runtime.behave('web', {});
    bed.runtime.behave('loop', {});
    assert.equal((await httpGet(gateway.proxyAddress!.port, '/session/web/')).status, 200);
    const started = await bed.api(gateway, 'POST', '/v1/apps/loop/start');
    assert.equal(started.status, 200, JSON.stringify(started.json));
    assert.equal(started.json.state, 'running');
    await bed.stop(gateway);
    assert.deepEqual(await keptFailures(bed), []);
  });
});

describe('failureKeeping', () => {
  it('keeps a failure with an error, leaves it through a start, forgets it past it, and writes nothing when nothing is kept', () => {
    assert.equal(failureKeeping('failed', true, false), 'keep');
    assert.equal(failureKeeping('crashloop', true, true), 'keep');
    assert.equal(failureKeeping('starting', true, true), 'leave');
    assert.equal(failureKeeping('running', false, true), 'forget');
    assert.equal(failureKeeping('stopped', false, true), 'forget');
    assert.equal(failureKeeping('running', false, false), 'forget', 'another gateway may have kept one');
    assert.equal(failureKeeping('stopped', false, false), 'leave');
  });
});

describe('FailureKeeper', () => {
  const failure: StoredFailure = { lastError: 'e', publicError: 'p', failedAt: new Date(1_700_000_000_000) };

  it('writes in the order reported (a slow write is not overtaken), only while the gateway acts, and never rejects', async () => {
    const written: string[] = [];
    let leading = true;
    let refuse = false;
    const store: FailureStore = {
      appFailures: async () => new Map(),
      saveAppFailure: async (app, f) => {
        // The first write is the slowest: a keeper that wrote concurrently would land the forget first.
        if (written.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
        if (refuse) throw new Error('disk full');
        written.push(`${app}:${f ? 'keep' : 'forget'}`);
      },
    };
    const warned: unknown[] = [];
    const logger = { warn: (...args: unknown[]) => warned.push(args) } as unknown as ConstructorParameters<typeof FailureKeeper>[0]['logger'];
    const keeper = new FailureKeeper({ store, saved: [], acts: () => leading, logger });
    keeper.keep('web', failure);
    keeper.keep('web', undefined);
    leading = false;
    keeper.keep('api', failure);
    await keeper.close();
    assert.deepEqual(written, ['web:keep', 'web:forget'], 'a gateway that does not lead writes nothing');
    leading = true;
    refuse = true;
    keeper.keep('web', failure);
    keeper.keep('web', failure);
    await keeper.close();
    assert.equal(warned.length, 1, 'a store that refuses is told once, not at every write');
  });

  it('alone on the store, writes a forget only for a failure the store holds', async () => {
    const written: string[] = [];
    const store: FailureStore = { appFailures: async () => new Map(), saveAppFailure: async (app, f) => void written.push(`${app}:${f ? 'keep' : 'forget'}`) };
    const keeper = new FailureKeeper({ store, saved: ['old'] });
    keeper.keep('never-failed', undefined);
    keeper.keep('old', undefined);
    keeper.keep('old', undefined);
    keeper.keep('web', failure);
    keeper.keep('web', undefined);
    await keeper.close();
    assert.deepEqual(written, ['old:forget', 'web:keep', 'web:forget']);
  });
});
