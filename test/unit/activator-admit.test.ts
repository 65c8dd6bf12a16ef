import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { NoOtherInstanceError, type BerthError } from '../../src/errors.js';
import { FakeRuntime, sleep } from '../support/fake-runtime.js';
import { eventually, fakeActivator, fakeSpec, waitForState } from '../support/fake-activator.js';
import { stickyId } from '../../src/proxy/balancer/cookie.js';

/** Waits that a test does not follow are still settled somewhere: a rejection must not go unhandled. */
function kindOf(admission: ReturnType<ReturnType<typeof fakeActivator>['admit']>): string {
  if (admission.kind === 'wait') admission.ready.catch(() => undefined);
  return admission.kind;
}

function req(headers: Record<string, string> = {}, method = 'GET'): IncomingMessage {
  return { method, headers } as unknown as IncomingMessage;
}

test('admit: a ready app answers ready with a reused object, without a promise', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web')]);
    await a.acquire('web');
    const first = a.admit('web', req());
    const second = a.admit('web', req());
    assert.equal(first.kind, 'ready');
    assert.equal(first, second, 'the same object, nothing allocated');
  } finally {
    a.close();
    await rt.close();
  }
});

test('admit: a new sticky client keeps its own cookie during a cold start', async () => {
  const rt = new FakeRuntime();
  rt.behave('web', { readyAfterMs: 100 });
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web', { balance: 'cookie' })]);
    const [container] = await rt.list({ app: 'web' });
    const fresh = a.admit('web', req());
    const pinned = a.admit('web', req({ cookie: `berth_web=${stickyId(container!.id)}` }));
    assert.equal(fresh.kind, 'wait');
    assert.equal(pinned.kind, 'wait');
    const [newClient, oldClient] = await Promise.all([fresh.kind === 'wait' && fresh.ready, pinned.kind === 'wait' && pinned.ready]);
    assert.ok(newClient && oldClient);
    assert.match(newClient.setCookie ?? '', /^berth_web=/, 'the new client is told its instance');
    assert.equal(oldClient.setCookie, undefined, 'a pinned client needs no new cookie');
  } finally {
    a.close();
    await rt.close();
  }
});

test('admit: the waiting page policy (browser page, API hold, recent failure, unknown app)', async () => {
  const rt = new FakeRuntime();
  rt.behave('web', { readyAfterMs: 200 });
  const a = fakeActivator(rt);
  const browser = { accept: 'text/html' };
  try {
    await a.reconcile([fakeSpec('web')]);
    assert.equal(a.admit('nope', req()).kind, 'fail');
    assert.equal(kindOf(a.admit('web', req({ accept: 'application/json' }))), 'wait', 'an API client is held');
    const page = a.admit('web', req(browser));
    assert.equal(page.kind, 'page', 'a browser gets the waiting page');
    await waitForState(a, 'web', 'running', 2_000);
    assert.equal(a.admit('web', req(browser)).kind, 'ready');
    await a.controller('web')!.stop('test', 100);
    rt.behave('web', { startError: () => new Error('exec format error') });
    assert.equal(a.admit('web', req(browser)).kind, 'page');
    await waitForState(a, 'web', 'failed');
    const failed = a.admit('web', req(browser));
    assert.equal(failed.kind, 'fail', 'a reload right after a failure shows it');
    // The runtime's words (the engine's, the gateway's paths) are for the admin API; the browser learns it failed.
    assert.equal(failed.kind === 'fail' ? failed.error.message : '', 'app web failed to start');
    assert.match(a.status('web')?.lastError ?? '', /exec format error/);
    assert.equal(kindOf(a.admit('web', req({}, 'POST'))), 'wait');
  } finally {
    a.close();
    await rt.close();
  }
});

type Setup = 'stopped' | 'running' | 'failed' | 'crashloop';

/** An activator with app `web` brought to `setup`; starts take long enough that an admitted page or hold cannot see the app ready. */
async function appIn(setup: Setup, extra: Record<string, unknown> = {}): Promise<{ rt: FakeRuntime; a: ReturnType<typeof fakeActivator> }> {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  await a.reconcile([fakeSpec('web', extra)]);
  if (setup === 'running') await a.acquire('web');
  if (setup === 'failed' || setup === 'crashloop') {
    rt.behave('web', { startError: () => new Error('exec format error') });
    for (let i = 0; i < (setup === 'failed' ? 1 : 3); i++) await assert.rejects(a.acquire('web'), /exec format error/);
    await waitForState(a, 'web', setup);
  }
  rt.behave('web', { readyAfterMs: 10_000 });
  return { rt, a };
}

const browser = { accept: 'text/html,application/xhtml+xml' };
const api = { accept: 'application/json' };

/**
 * The waiting policy as one table: who asks (a browser navigation, an API
 * client, a WebSocket handshake) × the app's state and waiting mode. A
 * WebSocket handshake is never given a page, whatever the mode.
 */
const admitCases: { name: string; setup: Setup; extra?: Record<string, unknown>; headers: Record<string, string>; method?: string; upgrade?: boolean; expect: string; code?: string }[] = [
  { name: 'stopped, browser', setup: 'stopped', headers: browser, expect: 'page' },
  { name: 'stopped, API client', setup: 'stopped', headers: api, expect: 'wait' },
  { name: 'stopped, browser POST', setup: 'stopped', headers: browser, method: 'POST', expect: 'wait' },
  { name: 'stopped, browser fetch (not a navigation)', setup: 'stopped', headers: { ...browser, 'sec-fetch-mode': 'cors' }, expect: 'wait' },
  { name: 'stopped, WebSocket from a browser', setup: 'stopped', headers: browser, upgrade: true, expect: 'wait' },
  { name: 'stopped, waiting: page, API GET', setup: 'stopped', extra: { waiting: 'page' }, headers: api, expect: 'page' },
  { name: 'stopped, waiting: page, WebSocket', setup: 'stopped', extra: { waiting: 'page' }, headers: {}, upgrade: true, expect: 'wait' },
  { name: 'stopped, waiting: hold, browser', setup: 'stopped', extra: { waiting: 'hold' }, headers: browser, expect: 'wait' },
  { name: 'running, browser', setup: 'running', headers: browser, expect: 'ready' },
  { name: 'running, WebSocket', setup: 'running', headers: {}, upgrade: true, expect: 'ready' },
  { name: 'failed moments ago, browser', setup: 'failed', headers: browser, expect: 'fail', code: 'start_failed' },
  { name: 'failed moments ago, API client', setup: 'failed', headers: api, expect: 'wait' },
  { name: 'failed moments ago, WebSocket from a browser', setup: 'failed', headers: browser, upgrade: true, expect: 'wait' },
  { name: 'crash-looping, browser (held, to get 503 with Retry-After)', setup: 'crashloop', headers: browser, expect: 'wait', code: 'overloaded' },
  { name: 'crash-looping, WebSocket', setup: 'crashloop', headers: {}, upgrade: true, expect: 'wait', code: 'overloaded' },
];

for (const c of admitCases) {
  test(`admit table: ${c.name} → ${c.expect}${c.code ? ` (${c.code})` : ''}`, async () => {
    const { rt, a } = await appIn(c.setup, c.extra);
    try {
      const admission = a.admit('web', req(c.headers, c.method), c.upgrade ? { upgrade: true } : undefined);
      assert.equal(kindOf(admission), c.expect);
      if (admission.kind === 'fail') assert.equal((admission.error as BerthError).code, c.code);
      if (admission.kind === 'wait' && c.code) {
        await assert.rejects(admission.ready, (e: BerthError) => e.code === c.code && (e.retryAfterS ?? 0) >= 1);
      }
      if (admission.kind === 'page' || (admission.kind === 'wait' && !c.code)) {
        // Both wake the app: the page's start goes on without the request.
        await eventually('the app is starting', () => a.status('web')?.state === 'starting');
      }
    } finally {
      a.close();
      await rt.close();
    }
  });
}

test('admit: an unknown app fails with not_found, for an upgrade and a retry too', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    for (const options of [undefined, { upgrade: true }, { exclude: 'x' }]) {
      const admission = a.admit('nope', req(browser), options);
      assert.equal(admission.kind, 'fail');
      assert.equal(admission.kind === 'fail' && (admission.error as BerthError).code, 'not_found');
    }
  } finally {
    a.close();
    await rt.close();
  }
});

test('admit with exclude: another ready instance, never the one that failed', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web', { scale: { min: 2, max: 2 } })]);
    await eventually('two ready instances', () => a.status('web')?.readyInstances === 2);
    const ids = rt.running('web').map((c) => c.id);
    assert.equal(ids.length, 2);
    for (const failed of ids) {
      for (let i = 0; i < 6; i++) {
        const retry = a.admit('web', req(), { exclude: failed });
        assert.equal(retry.kind, 'ready');
        assert.notEqual(retry.kind === 'ready' && retry.upstream.instanceId, failed);
      }
    }
  } finally {
    a.close();
    await rt.close();
  }
});

test('admit with exclude: with no other instance it fails at once, starting and paging nothing', async () => {
  for (const setup of ['running', 'stopped'] as const) {
    const { rt, a } = await appIn(setup);
    try {
      const only = setup === 'running' ? a.pick('web')!.instanceId : 'gone';
      const startsBefore = rt.calls.start;
      const stateBefore = a.status('web')?.state;
      const retry = a.admit('web', req(browser), { exclude: only });
      assert.equal(retry.kind, 'fail', setup);
      assert.ok(retry.kind === 'fail' && retry.error instanceof NoOtherInstanceError, setup);
      await sleep(50);
      assert.equal(rt.calls.start, startsBefore, `${setup}: a retry does not start the app`);
      assert.equal(a.status('web')?.state, stateBefore, setup);
    } finally {
      a.close();
      await rt.close();
    }
  }
});

test('admit with exclude: a sticky client whose instance failed is pinned to the other one', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web', { balance: 'cookie', scale: { min: 2, max: 2 } })]);
    await eventually('two ready instances', () => a.status('web')?.readyInstances === 2);
    const [pinnedTo, other] = rt.running('web').map((c) => c.id) as [string, string];
    const client = req({ cookie: `berth_web=${stickyId(pinnedTo)}` });
    const first = a.admit('web', client);
    assert.ok(first.kind === 'ready' && first.upstream.instanceId === pinnedTo && first.setCookie === undefined, 'the pin is honoured');
    const retry = a.admit('web', client, { exclude: pinnedTo });
    assert.equal(retry.kind, 'ready');
    assert.equal(retry.kind === 'ready' && retry.upstream.instanceId, other);
    assert.equal(retry.kind === 'ready' && retry.setCookie?.split(';')[0], `berth_web=${stickyId(other)}`);
  } finally {
    a.close();
    await rt.close();
  }
});

test('admit: a policy that reads the request is asked even with one instance (a new sticky client gets its cookie)', async () => {
  const rt = new FakeRuntime();
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web', { balance: 'cookie' })]);
    await a.acquire('web');
    const admission = a.admit('web', req());
    assert.equal(admission.kind, 'ready');
    assert.match(admission.kind === 'ready' ? (admission.setCookie ?? '') : '', /^berth_web=fake\d+;/);
  } finally {
    a.close();
    await rt.close();
  }
});

test('admit: a request for an app routed but not yet declared waits for the reconcile under way, not a false 404', async () => {
  const rt = new FakeRuntime();
  rt.listDelayMs = 150;
  const a = fakeActivator(rt);
  try {
    const reconciled = a.reconcile([fakeSpec('web')]);
    const early = a.admit('web', req({ accept: 'application/json' }));
    assert.equal(early.kind, 'wait');
    const unknown = a.admit('nope', req());
    assert.equal(unknown.kind, 'wait', 'while a reconcile runs, any routed name may still come');
    const unknownOutcome = unknown.kind === 'wait' ? unknown.ready.then(() => 'served', (e: BerthError) => e.code) : 'not held';
    await reconciled;
    assert.ok(early.kind === 'wait' && (await early.ready).upstream.port > 0, 'served once declared');
    assert.equal(await unknownOutcome, 'not_found', 'still not declared after it: 404');
    const after = a.admit('nope', req());
    assert.equal(after.kind, 'fail', 'with no reconcile under way, an unknown app fails at once');
  } finally {
    a.close();
    await rt.close();
  }
});

test('admit: a request that comes once the listener is up but before the first reconcile begins waits for it, not a false 404', async () => {
  const rt = new FakeRuntime();
  rt.listDelayMs = 100;
  const a = fakeActivator(rt);
  try {
    // The gateway listens first (an app's input URL needs the port), then reconciles.
    let begin!: () => void;
    a.holdUndeclared(new Promise<void>((resolve) => (begin = resolve)));
    const early = a.admit('web', req({ accept: 'application/json' }));
    assert.equal(early.kind, 'wait');
    const unknown = a.admit('nope', req());
    const unknownOutcome = unknown.kind === 'wait' ? unknown.ready.then(() => 'served', (e: BerthError) => e.code) : 'not held';
    await sleep(50);
    const reconciled = a.reconcile([fakeSpec('web')]);
    begin();
    await reconciled;
    assert.ok(early.kind === 'wait' && (await early.ready).upstream.port > 0, 'served once declared');
    assert.equal(await unknownOutcome, 'not_found');
    assert.equal(a.admit('nope', req()).kind, 'fail', 'no longer held');
  } finally {
    a.close();
    await rt.close();
  }
});

test('admit: a failure moments ago is shown whatever the wall clock does (it is measured on the monotonic clock)', async () => {
  const rt = new FakeRuntime();
  rt.behave('web', { startError: () => new Error('exec format error') });
  const a = fakeActivator(rt);
  const realNow = Date.now;
  const browser = { accept: 'text/html' };
  try {
    await a.reconcile([fakeSpec('web')]);
    await assert.rejects(a.acquire('web'), /exec format error/);
    assert.equal(a.status('web')?.state, 'failed');
    // The wall clock jumps an hour ahead (an NTP step): the failure is still seconds old.
    Date.now = () => realNow() + 3_600_000;
    const failed = a.admit('web', req(browser));
    assert.equal(failed.kind, 'fail', 'a reload right after a failure still shows it');
    // In its public form: the engine's words stay on the admin API.
    assert.match(failed.kind === 'fail' ? failed.error.message : '', /app web failed to start/);
  } finally {
    Date.now = realNow;
    a.close();
    await rt.close();
  }
});
