// The worker side of the state feed: versioned snapshots, the local
// balancer's answers, and what crosses the process boundary.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { BerthError, StoreError } from '../../src/errors.js';
import { routeEntriesOf } from '../../src/cluster/gateway-workers.js';
import { isNewer, ReadySet } from '../../src/cluster/ready-set.js';
import type { AppSnapshot, WireRecord } from '../../src/cluster/state-feed.js';
import { errorOf, factsOf, recordOf, wakeAnswerOf, wireError, wireRecord } from '../../src/cluster/wire.js';
import { fakeSpec } from '../support/fake-activator.js';

const req = { method: 'GET', url: '/', headers: {} } as IncomingMessage;
const addr = (id: string, port = 1000) => ({ id, name: `c-${id}`, host: '127.0.0.1', port });
const snap = (version: number, ready: string[], extra: Partial<AppSnapshot> = {}): AppSnapshot => ({ app: 'web', version, ready: ready.map((id) => addr(id)), status: { state: ready.length ? 'running' : 'stopped', ready: ready.length > 0 }, ...extra });

test('isNewer: only a newer version replaces what a worker holds', () => {
  const table: Array<[number, number, boolean]> = [
    [-1, 0, true],
    [3, 4, true],
    [4, 4, false],
    [5, 4, false],
  ];
  for (const [held, incoming, expected] of table) assert.equal(isNewer(held, incoming), expected, `${held} → ${incoming}`);
});

describe('ReadySet', () => {
  const cases: Array<{ name: string; snapshots: AppSnapshot[]; ready: number; state: string }> = [
    { name: 'a ready app', snapshots: [snap(1, ['a'])], ready: 1, state: 'running' },
    { name: 'a late, older snapshot never rolls back', snapshots: [snap(2, ['a', 'b']), snap(1, [])], ready: 2, state: 'running' },
    { name: 'a newer one replaces', snapshots: [snap(1, ['a']), snap(2, [])], ready: 0, state: 'stopped' },
    { name: 'fenced: nothing to admit locally', snapshots: [snap(1, ['a']), snap(2, ['a'], { fenced: true })], ready: 0, state: 'running' },
    { name: 'the fence is lifted by a newer snapshot', snapshots: [snap(2, ['a'], { fenced: true }), snap(3, ['a'])], ready: 1, state: 'running' },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const set = new ReadySet('web', 'round-robin');
      for (const s of c.snapshots) set.apply(s);
      assert.equal(set.readyCount, c.ready);
      assert.equal(set.status.state, c.state);
      assert.equal(set.admit(req) !== undefined, c.ready > 0);
    });
  }

  test('answers with a reused object, keeps Upstreams (and their counts) across snapshots, honours exclude', () => {
    const set = new ReadySet('web', 'round-robin');
    set.apply(snap(1, ['a', 'b']));
    const first = set.admit(req);
    assert.equal(first?.kind, 'ready');
    const upstreamA = set.upstreamFor(addr('a'));
    upstreamA.inFlight = 2;
    set.apply(snap(2, ['a', 'b', 'c']));
    assert.equal(set.upstreamFor(addr('a')), upstreamA, 'the same object after an update');
    assert.deepEqual(set.inFlightByInstance(), [['a', 2]]);
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const answer = set.admit(req, 'b');
      assert.equal(answer, first, 'reused');
      if (answer?.kind === 'ready') seen.add(answer.upstream.instanceId);
    }
    assert.deepEqual([...seen].sort(), ['a', 'c'], 'round-robin over the others');
    const only = new ReadySet('web', 'least-connections');
    only.apply(snap(1, ['a']));
    assert.equal(only.admit(req, 'a'), undefined, 'nothing besides the excluded one');
  });

  test('a sticky cookie pins the client across workers: the pin names the instance, not the worker', () => {
    const set = new ReadySet('web', 'cookie');
    set.apply(snap(1, ['aaaaaaaaaaaa1', 'bbbbbbbbbbbb2']));
    const pinned = set.admit({ ...req, headers: { cookie: 'berth_web=bbbbbbbbbbbb' } } as IncomingMessage);
    assert.equal(pinned?.kind === 'ready' && pinned.upstream.instanceId, 'bbbbbbbbbbbb2');
    assert.equal(pinned?.kind === 'ready' && pinned.setCookie, undefined);
  });
});

describe('wire', () => {
  test('records survive the round trip', () => {
    const full = { timeMs: 1_700_000_000_123, app: 'web', method: 'POST', path: '/x?y=1', status: 201, durationMs: 1.25, bytesIn: 10, bytesOut: 20, client: '127.0.0.1', waited: true, instance: 'berth-web-0', requestId: 'r1' };
    const bare = { timeMs: 1_700_000_000_000, app: 'web', method: 'GET', path: '/', status: 0, durationMs: 0, bytesIn: 0, bytesOut: 0, client: '::1', waited: false };
    for (const r of [full, bare]) assert.deepEqual(recordOf(JSON.parse(JSON.stringify(wireRecord(r))) as WireRecord), r);
  });

  test('errors keep their code, status and Retry-After; system errors their code', () => {
    const table: Array<[Error, (e: Error) => void]> = [
      [new BerthError('overloaded', 'full', { retryAfterS: 3 }), (e) => assert.ok(e instanceof BerthError && e.code === 'overloaded' && e.retryAfterS === 3)],
      [new StoreError('disk'), (e) => assert.ok(e instanceof BerthError && e.code === 'store_error')],
      [Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), (e) => assert.equal((e as { code?: string }).code, 'ECONNREFUSED')],
    ];
    for (const [err, check] of table) {
      const back = errorOf(JSON.parse(JSON.stringify(wireError(err))));
      assert.equal(back.message, err.message);
      check(back);
    }
  });

  test('facts carry what the waiting page and sticky sessions read, nothing else', () => {
    const facts = factsOf({ method: 'GET', url: '/a', headers: { accept: 'text/html', cookie: 'c=1', 'sec-fetch-mode': 'navigate', authorization: 'secret', 'x-requested-with': 'XMLHttpRequest' } }, false);
    assert.deepEqual(facts, { method: 'GET', url: '/a', headers: { accept: 'text/html', cookie: 'c=1', 'sec-fetch-mode': 'navigate', 'x-requested-with': 'XMLHttpRequest' }, upgrade: false });
  });

  test('a wake answer is final: a hold is waited out, a failed one becomes fail', async () => {
    const upstream = { app: 'web', instanceId: 'i', instanceName: 'n', origin: 'http://h:1', host: 'h', port: 1, inFlight: 0, failures: 0 };
    assert.deepEqual(await wakeAnswerOf({ kind: 'wait', ready: Promise.resolve({ upstream, setCookie: undefined }) }), { kind: 'ready', upstream: { id: 'i', name: 'n', host: 'h', port: 1 } });
    const failed = await wakeAnswerOf({ kind: 'wait', ready: Promise.reject(new BerthError('start_failed', 'no')) });
    assert.equal(failed.kind === 'fail' && failed.error.code, 'start_failed');
    assert.deepEqual(await wakeAnswerOf({ kind: 'page', title: 't' }), { kind: 'page', title: 't', message: undefined });
  });

  test('route entries carry routes, balance, timeouts and a URL input only', () => {
    const plain = fakeSpec('a');
    const withInput = fakeSpec('b', { input: { data: { k: 1 }, as: 'url' }, balance: 'cookie' });
    const [a, b] = routeEntriesOf([{ ...plain, name: 'a' }, { ...withInput, name: 'b' }]);
    assert.deepEqual(Object.keys(a!).sort(), ['app', 'balance', 'routes']);
    assert.equal(b!.balance, 'cookie');
    assert.equal(typeof b!.input, 'string');
  });
});
