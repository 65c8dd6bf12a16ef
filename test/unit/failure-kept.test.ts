// An app's failure kept across a gateway restart: its state and lastError live in the
// controller's memory, so an app that had failed showed a plain `stopped` after a restart,
// its why gone. Whole gateways on one SQLite file and one fake engine (FakeGatewayBed):
// a restart is the next gateway on the same file, as Docker outlives a gateway.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { failureKeeping, failureOwner, type FailureOwner } from '../../src/activator/kept-failure.js';
import { StartSlotsBusyError } from '../../src/activator/start-errors.js';
import { EngineUnavailableError, PolicyError, RuntimeError, StartFailedError, StoreUnavailableError } from '../../src/errors.js';
import { FailureKeeper } from '../../src/gateway/failure-keeper.js';
import type { FailureStore, StoredFailure } from '../../src/store/store.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { fakeActivator, fakeSpec } from '../support/fake-activator.js';
import { FakeGatewayBed } from '../support/fake-gateway.js';
import { FakeRuntime } from '../support/fake-runtime.js';
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

describe('what is kept, and what is not', () => {
  it('a failure of the surroundings (engine, store) is not kept and leaves the app\'s own; berth stop on a failed or crash-looping app makes it stopped and forgets its failure', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    let gateway = await bed.start();
    const apps = ['down', 'store', 'own', 'halt', 'loop'];
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', apps.map((app) => spec(app, '1')))).status, 200);
    const start = async (app: string, fault: () => Error) => {
      bed.runtime.behave(app, { startError: fault });
      await bed.api(gateway, 'POST', `/v1/apps/${app}/start`);
    };
    const engineDown = () => new EngineUnavailableError('the Docker engine did not answer within 5s', 5);
    await start('down', engineDown);
    await start('store', () => new StoreUnavailableError('PostgreSQL did not answer'));
    await start('own', () => new Error(ENGINE_WORDS));
    await start('own', engineDown);
    await start('halt', () => new Error(ENGINE_WORDS));
    for (let i = 0; i < 3; i++) await start('loop', () => new Error(ENGINE_WORDS));
    for (const app of ['down', 'store', 'own', 'halt']) assert.equal((await bed.api(gateway, 'GET', `/v1/apps/${app}`)).json.state, 'failed', app);
    assert.equal((await bed.api(gateway, 'GET', '/v1/apps/own')).json.status.lastError, 'the Docker engine did not answer within 5s');
    assert.equal((await bed.api(gateway, 'GET', '/v1/apps/loop')).json.state, 'crashloop');
    for (const app of ['halt', 'loop']) {
      const stopped = await bed.api(gateway, 'POST', `/v1/apps/${app}/stop`);
      assert.equal(stopped.status, 200, JSON.stringify(stopped.json));
      assert.equal(stopped.json.state, 'stopped', `${app}: stop means stopped`);
      assert.equal(stopped.json.reason, 'stopped through the API');
      assert.equal(stopped.json.lastError, undefined);
    }
    // Past its backoff: the next request starts the crash-looping app at once.
    bed.runtime.behave('loop', {});
    assert.equal((await httpGet(gateway.proxyAddress!.port, '/session/loop/')).status, 200);
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps/loop/stop')).json.state, 'stopped');

    await bed.stop(gateway);
    assert.deepEqual((await keptFailures(bed)).sort(), ['own']);
    gateway = await bed.start();
    for (const app of ['down', 'store', 'halt', 'loop']) assert.equal((await bed.api(gateway, 'GET', `/v1/apps/${app}`)).json.state, 'stopped', `${app}: nothing of the app's own to show`);
    const own = (await bed.api(gateway, 'GET', '/v1/apps/own')).json;
    assert.equal(own.state, 'failed');
    assert.match(own.status.lastError, /exec format error/, 'the app\'s own failure, not the outage after it');
    await bed.stop(gateway);
  });
});

describe('a follower that takes the lead', () => {
  it('shows the failures the old leader kept (its own view was stopped), leaves an app it sees up or failed itself, and forgets one at the next start that works', async () => {
    const rt = new FakeRuntime();
    let leads = true;
    const written: string[] = [];
    const told: string[] = [];
    const a = fakeActivator(rt, {
      acts: () => leads,
      keepFailure: (app, f) => void written.push(`${app}:${f ? 'keep' : 'forget'}`),
      onChange: (status) => void told.push(`${status.name}:${status.state}`),
    });
    try {
      await a.reconcile([fakeSpec('web'), fakeSpec('up'), fakeSpec('own')]);
      await a.acquire('up');
      leads = false;
      a.controller('own')!.fail('a name conflict this gateway saw');
      assert.equal(a.status('web')?.state, 'stopped');
      const failedAt = new Date(Date.now() - 60_000);
      const kept = (lastError: string): StoredFailure => ({ reason: '3 failures in a row', lastError, publicError: 'app failed to start', failedAt });
      leads = true;
      written.length = 0;
      told.length = 0;
      a.takeKeptFailures(new Map([['web', kept('the container exited with code 3')], ['up', kept('old')], ['own', kept('old')], ['gone', kept('old')]]));
      const web = a.status('web')!;
      assert.equal(web.state, 'failed', 'the old leader\'s view, not a plain stopped');
      assert.equal(web.lastError, 'the container exited with code 3');
      assert.equal(web.reason, '3 failures in a row');
      assert.equal(web.since?.getTime(), failedAt.getTime(), 'the moment it failed, not the lead taken');
      assert.deepEqual(told, ['web:failed'], 'the change is told (events, dashboard)');
      assert.equal(a.status('up')?.state, 'running');
      assert.equal(a.status('own')?.lastError, 'a name conflict this gateway saw');
      assert.equal(a.status('gone'), undefined);
      assert.deepEqual(written, [], 'what the store holds is not written again');
      await a.acquire('web');
      assert.equal(a.status('web')?.state, 'running');
      assert.deepEqual(written, ['web:forget']);
    } finally {
      a.close();
      await rt.close();
    }
  });
});

describe('failureKeeping', () => {
  it('keeps an app\'s own failure, leaves what is kept through a start or a failure of the surroundings, forgets it past it, and writes nothing when nothing is kept', () => {
    const rows: ReadonlyArray<[Parameters<typeof failureKeeping>, ReturnType<typeof failureKeeping>, string?]> = [
      [['failed', 'app', false], 'keep'],
      [['crashloop', 'app', true], 'keep'],
      [['failed', 'surroundings', false], 'leave', 'the engine down, start slots busy, the store unreachable: nothing wrong with the app'],
      [['failed', 'surroundings', true], 'leave', 'the app\'s own failure kept before stays: no start worked since'],
      [['failed', undefined, true], 'forget'],
      [['starting', 'app', true], 'leave'],
      [['running', undefined, true], 'forget'],
      [['stopped', undefined, true], 'forget', 'berth stop on a failed app'],
      [['running', undefined, false], 'forget', 'another gateway may have kept one'],
      [['stopped', undefined, false], 'leave'],
    ];
    for (const [args, want, why] of rows) assert.equal(failureKeeping(...args), want, why ?? args.join(' '));
  });
});

describe('failureOwner', () => {
  it('tells the surroundings\' failures by their catalogue code, and takes anything else for the app\'s', () => {
    const rows: ReadonlyArray<[unknown, FailureOwner]> = [
      [new EngineUnavailableError('the Docker engine did not answer within 5s', 5), 'surroundings'],
      [new StartSlotsBusyError('web', 2), 'surroundings'],
      [new StoreUnavailableError('PostgreSQL did not answer'), 'surroundings'],
      [new StartFailedError('web', 'the container exited with code 3', false), 'app'],
      [new StartFailedError('web', 'not ready in time', true), 'app'],
      [new PolicyError([{ path: 'image', message: 'not allowed' }]), 'app'],
      [new RuntimeError('No such image: fake/web:1'), 'app'],
      [new Error('engine_unavailable'), 'app'],
    ];
    for (const [err, want] of rows) assert.equal(failureOwner(err), want, (err as Error).message);
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
