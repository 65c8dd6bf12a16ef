// The pure parts of several gateways on one store, as tables: notices on the wire,
// the other gateways' activity folded into idle clocks, this gateway's own activity,
// the fence holds, the leader's app states, gateway names, and what counts as the
// store being out of reach.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AppState, AppStatus } from '../../src/activator/app-status.js';
import type { ActivityDelta } from '../../src/cluster/activity-table.js';
import { SIGNAL_COUNTS_FOR_MS } from '../../src/activator/ended-reason.js';
import { LeaderStops } from '../../src/cluster/gateways/leader-stops.js';
import { isLeaderStopExit } from '../../src/activator/app-controller.js';
import { decodeNotice, encodeNotice, type ClusterNotice } from '../../src/cluster/gateways/cluster-notice.js';
import { FenceHolds } from '../../src/cluster/gateways/fence-holds.js';
import { gatewayIdOf } from '../../src/cluster/gateways/gateway-id.js';
import { activityOf } from '../../src/cluster/gateways/gateway-registry.js';
import { leaderStatusOf, statusFromJson, viewedStatus } from '../../src/cluster/gateways/leader-status.js';
import { LocalActivity } from '../../src/cluster/gateways/local-activity.js';
import { PeerActivity, type PeerReport } from '../../src/cluster/gateways/peer-activity.js';
import { gatewayRows } from '../../src/cli/commands/gateways.js';
import { desiredIsStale } from '../../src/gateway/cluster-link.js';
import type { AppSpec } from '../../src/spec/types.js';
import { isUnreachable } from '../../src/store/pg-connect.js';
import type { StoredApp } from '../../src/store/store.js';

describe('cluster notices round-trip, and malformed ones are ignored', () => {
  const notices: ClusterNotice[] = [
    { k: 'desired', from: 'a', apps: ['x', 'y'] },
    { k: 'desired', from: 'a' },
    { k: 'fence', from: 'a', id: 3, app: 'x' },
    { k: 'fenced', from: 'b', id: 3 },
    { k: 'unfence', from: 'a', app: 'x', stopping: true },
    { k: 'unfence', from: 'a', app: 'x', stopping: false },
    { k: 'stopping', from: 'a', app: 'x', reason: 'idle' },
  ];
  for (const n of notices) test(`${n.k} ${JSON.stringify(n)}`, () => assert.deepEqual(decodeNotice(encodeNotice(n)), n));

  test('a desired notice naming too many apps becomes "any app" (NOTIFY payloads stop at 8000 bytes)', () => {
    const apps = Array.from({ length: 2000 }, (_, i) => `app-number-${i}`);
    const text = encodeNotice({ k: 'desired', from: 'a', apps });
    assert.ok(Buffer.byteLength(text) < 8000);
    assert.deepEqual(decodeNotice(text), { k: 'desired', from: 'a' });
  });

  const bad: Array<string | undefined> = [undefined, '', 'not json', '42', 'null', '{"k":"desired"}', '{"k":"fence","from":"a","app":"x"}', '{"k":"desired","from":"a","apps":[1]}', '{"k":"other","from":"a"}', '{"k":"stopping","from":"a","app":"x"}'];
  for (const payload of bad) test(`ignored: ${JSON.stringify(payload)}`, () => assert.equal(decodeNotice(payload), undefined));
});

test("LeaderStops: the leader's stop counts for instances started before it, and not for long", () => {
  const stops = new LeaderStops();
  assert.equal(stops.stoppedSince('x', 0, 1_000), undefined);
  stops.note('x', 'idle', 1_000);
  assert.equal(stops.stoppedSince('x', 500, 1_200), 'idle');
  assert.equal(stops.stoppedSince('x', 999, 1_200), 'idle', 'started the millisecond before');
  // The engine's start time and the notice's are both cut to the millisecond: within one, the notice is taken as the earlier
  // (as a die event in a start's own millisecond is the previous run's), or a start right after a stop hid its own crash.
  assert.equal(stops.stoppedSince('x', 1_000, 1_200), undefined, 'started in the same millisecond');
  assert.equal(stops.stoppedSince('x', 1_100, 1_200), undefined, 'an instance started after the stop was announced');
  assert.equal(stops.stoppedSince('y', 0, 1_200), undefined);
  assert.equal(stops.stoppedSince('x', 500, 1_000 + SIGNAL_COUNTS_FOR_MS + 1), undefined, 'an old announcement');
});

test("isLeaderStopExit: a notice in the instance's start millisecond is not its stop, one after it is", () => {
  assert.equal(isLeaderStopExit({ atMs: 1_010, startedAtMs: 1_000 }, 1_000), false);
  assert.equal(isLeaderStopExit({ atMs: 1_010, startedAtMs: 1_000 }, 1_001), true);
  assert.equal(isLeaderStopExit({ atMs: 1_010, startedAtMs: 1_000 }, 999), false);
});

describe('PeerActivity: the other gateways\' heartbeats become idle-clock deltas', () => {
  const cases: Array<{ name: string; beats: PeerReport[][]; last: ActivityDelta[]; inFlight: number }> = [
    { name: 'a first report with one in flight', beats: [[{ id: 'b', activity: [['x', 1, 100]] }]], last: [{ app: 'x', delta: 1, touched: true }], inFlight: 1 },
    { name: 'the same heartbeat again: nothing new', beats: [[{ id: 'b', activity: [['x', 1, 100]] }], [{ id: 'b', activity: [['x', 1, 100]] }]], last: [], inFlight: 1 },
    { name: 'requests came and went: a touch', beats: [[{ id: 'b', activity: [['x', 0, 100]] }], [{ id: 'b', activity: [['x', 0, 200]] }]], last: [{ app: 'x', delta: 0, touched: true }], inFlight: 0 },
    { name: 'two gateways add up', beats: [[{ id: 'b', activity: [['x', 2, 100]] }, { id: 'c', activity: [['x', 1, 100]] }]], last: [{ app: 'x', delta: 2, touched: true }, { app: 'x', delta: 1, touched: true }], inFlight: 3 },
    { name: 'a gateway gone gives back what it held', beats: [[{ id: 'b', activity: [['x', 2, 100]] }], []], last: [{ app: 'x', delta: -2, touched: false }], inFlight: 0 },
    { name: 'in flight ends', beats: [[{ id: 'b', activity: [['x', 2, 100]] }], [{ id: 'b', activity: [['x', 0, 150]] }]], last: [{ app: 'x', delta: -2, touched: true }], inFlight: 0 },
    // A request that began and ended within one millisecond of the last report: the count still moved.
    { name: 'in flight ends in the same millisecond', beats: [[{ id: 'b', activity: [['x', 1, 100]] }], [{ id: 'b', activity: [['x', 0, 100]] }]], last: [{ app: 'x', delta: -1, touched: true }], inFlight: 0 },
    // The peer's wall clock stepped back (NTP): its times are compared for change, not for order.
    { name: 'a peer clock that steps back', beats: [[{ id: 'b', activity: [['x', 0, 200]] }], [{ id: 'b', activity: [['x', 1, 150]] }]], last: [{ app: 'x', delta: 1, touched: true }], inFlight: 1 },
    // Killed with requests in flight and back under the same id before its heartbeat aged out: the new process knows nothing of them.
    { name: 'a peer restarted under its id gives back what the old process held', beats: [[{ id: 'b', activity: [['x', 2, 100]] }], [{ id: 'b', activity: [] }]], last: [{ app: 'x', delta: -2, touched: true }], inFlight: 0 },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const peers = new PeerActivity();
      let last: ActivityDelta[] = [];
      for (const beat of c.beats) last = peers.fold(beat);
      assert.deepEqual(last, c.last);
      assert.equal(peers.inFlight('x'), c.inFlight);
    });
  }
});

describe("activityOf: a registry row's activity as read back; anything malformed in it is left out", () => {
  // One bad row (an older or foreign writer, a hand edit) must not stop every gateway's heartbeat.
  const cases: Array<[string, unknown, unknown[]]> = [
    ['well formed', [['x', 1, 100]], [['x', 1, 100]]],
    ['not a list', { x: 1 }, []],
    ['null', null, []],
    ['a null entry among good ones', [null, ['x', 1, 100]], [['x', 1, 100]]],
    ['a string entry', ['x'], []],
    ['a count as text', [['x', '1', 100]], []],
    ['a negative count', [['x', -1, 100]], []],
    ['a time that is no number', [['x', 0, null]], []],
    ['a name that is no string', [[7, 0, 100]], []],
    ['a short tuple', [['x', 1]], []],
  ];
  for (const [name, value, expected] of cases) test(name, () => assert.deepEqual(activityOf(value), expected));
  test('a malformed row folds without throwing', () => assert.deepEqual(new PeerActivity().fold([{ id: 'b', activity: activityOf([null, ['x', 1, 5]]) }]), [{ app: 'x', delta: 1, touched: true }]));
});

describe("leaderStatusOf: a row of the leader's app states as read back; a malformed one is left out (the gateway shows its own view)", () => {
  const good = { name: 'web', state: 'running', since: '2026-01-01T00:00:00.000Z', inFlight: 0, waiting: 0, replicas: 1, readyInstances: 1 };
  const cases: Array<[string, unknown, boolean]> = [
    ['well formed', good, true],
    ['text, not an object', 'running', false],
    ['a list', [good], false],
    ['null', null, false],
    ['another app', { ...good, name: 'api' }, false],
    ['an unknown state', { ...good, state: 'exploded' }, false],
    ['a since that is no date', { ...good, since: 'yesterday-ish' }, false],
    ['a lastActivity that is no date', { ...good, lastActivity: 'soon' }, false],
    ['a count as text', { ...good, inFlight: '1' }, false],
    ['no replicas', { ...good, replicas: undefined }, false],
  ];
  for (const [name, value, kept] of cases) test(name, () => assert.equal(leaderStatusOf('web', value) !== undefined, kept));
});

test('LocalActivity: in flight and the last activity time per app, only what this proxy saw', () => {
  let now = 1_000;
  const local = new LocalActivity(() => now);
  local.began('x');
  local.began('x');
  now = 2_000;
  local.ended('x');
  local.ended('y');
  assert.deepEqual(local.entries(), [['x', 1, 2_000]]);
  local.ended('x');
  now += 25 * 3600_000;
  assert.deepEqual(local.entries(), [], 'long idle entries are no longer published');
});

describe('FenceHolds: requests wait while the leader decides', () => {
  // The holds' timers do not keep a process alive (unref); the test's own does, while it waits.
  let keepAlive: NodeJS.Timeout;
  before(() => (keepAlive = setInterval(() => undefined, 1_000)));
  after(() => clearInterval(keepAlive));
  test('no hold: nothing to wait on', () => {
    const holds = new FenceHolds(() => 'running');
    assert.equal(holds.heldFor('x'), undefined);
  });

  test('released when the leader keeps the app up', async () => {
    const holds = new FenceHolds(() => 'running');
    holds.hold('x');
    const held = holds.heldFor('x');
    assert.ok(held);
    holds.release('x', false);
    await held;
    assert.equal(holds.heldFor('x'), undefined);
  });

  test('when the leader stops it: held until this gateway sees it down', async () => {
    let state: AppState = 'running';
    const holds = new FenceHolds(() => state);
    holds.hold('x');
    const held = holds.heldFor('x')!;
    holds.release('x', true);
    let done = false;
    void held.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(done, false, 'still held while the app runs here');
    state = 'stopped';
    await held;
    holds.close();
  });

  test('a hold whose decision never comes ends by itself', async () => {
    const holds = new FenceHolds(() => 'running');
    holds.hold('x', 50);
    await holds.heldFor('x');
    assert.equal(holds.heldFor('x'), undefined);
  });
});

test("viewedStatus: the leader's view at a gateway that does not lead, its own otherwise", () => {
  const own = { name: 'x', state: 'stopped', since: new Date(0), inFlight: 0, waiting: 0, replicas: 1, readyInstances: 0 } as AppStatus;
  const leader = { name: 'x', state: 'running', since: '2026-01-01T00:00:00.000Z', lastActivity: '2026-01-01T00:01:00.000Z', inFlight: 2, waiting: 0, replicas: 1, readyInstances: 1 };
  assert.equal(viewedStatus(own, leader, true), own);
  assert.equal(viewedStatus(own, undefined, false), own);
  const seen = viewedStatus(own, leader, false)!;
  assert.equal(seen.state, 'running');
  assert.deepEqual(seen.since, new Date('2026-01-01T00:00:00.000Z'));
  assert.deepEqual(statusFromJson(leader).lastActivity, new Date('2026-01-01T00:01:00.000Z'));
});

describe('gatewayIdOf', () => {
  const cases: Array<[configured: string | undefined, env: string | undefined, host: string, port: number, expected: string]> = [
    ['edge-1', 'env-1', 'h', 8080, 'edge-1'],
    [undefined, 'env-1', 'h', 8080, 'env-1'],
    [undefined, 'bad id with spaces', 'h', 8080, 'h-8080'],
    [undefined, undefined, 'node.example.com', 8080, 'node.example.com-8080'],
    [undefined, undefined, 'weird host/name', 0, 'weird-host-name-pid42'],
  ];
  for (const [configured, env, host, port, expected] of cases) test(expected, () => assert.equal(gatewayIdOf(configured, env, host, port, 42), expected));
});

test('berth gateways: one row per gateway, the answering one starred', () => {
  const g = (id: string, leader: boolean, alive: boolean, self = false) => ({
    id,
    self,
    proxyAddress: '127.0.0.1:8080',
    adminAddress: '127.0.0.1:8081',
    version: '1.0.0',
    startedAt: '2026-01-01T00:00:00.000Z',
    lastHeartbeat: new Date(10_000).toISOString(),
    leader,
    alive,
    activity: [{ app: 'x', inFlight: 2, lastActivity: '2026-01-01T00:00:00.000Z' }],
  });
  const rows = gatewayRows({ self: 'a', leader: 'a', gateways: [g('a', true, true, true), g('b', false, true), g('c', false, false)] }, 12_000);
  assert.deepEqual(
    rows.map((r) => [r[0], r[1], r[6]]),
    [
      ['a *', 'leader', '2'],
      ['b', 'follower', '2'],
      ['c', 'gone', '2'],
    ],
  );
});

describe('isUnreachable: the server out of reach, not a failed statement', () => {
  const cases: Array<[string, unknown, boolean]> = [
    ['refused', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), true],
    ['reset', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), true],
    ['admin shutdown', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }), true],
    ['starting up', Object.assign(new Error('the database system is starting up'), { code: '57P03' }), true],
    ['connection ended', new Error('Connection terminated unexpectedly'), true],
    ['pool timeout', new Error('timeout exceeded when trying to connect'), true],
    ['unique violation', Object.assign(new Error('duplicate key'), { code: '23505' }), false],
    ['syntax error', Object.assign(new Error('syntax error'), { code: '42601' }), false],
    ['not an error', 'text', false],
  ];
  for (const [name, err, expected] of cases) test(name, () => assert.equal(isUnreachable(err), expected));
});

describe('desiredIsStale: the periodic comparison of the store with what a gateway routes', () => {
  const spec = (name: string, port = 8080) => ({ name, port }) as unknown as AppSpec;
  const stored = (name: string, port = 8080) => ({ name, spec: spec(name, port) }) as unknown as StoredApp;
  const cases: Array<[string, StoredApp[], Array<[string, AppSpec]>, boolean]> = [
    ['the same', [stored('a'), stored('b')], [['a', spec('a')], ['b', spec('b')]], false],
    ['an app more in the store', [stored('a'), stored('b')], [['a', spec('a')]], true],
    ['an app deleted in the store', [stored('a')], [['a', spec('a')], ['b', spec('b')]], true],
    ['a spec changed', [stored('a', 9090)], [['a', spec('a')]], true],
    ['a different app of the same count', [stored('c')], [['a', spec('a')]], true],
  ];
  for (const [name, store, routed, expected] of cases) test(name, () => assert.equal(desiredIsStale(store, new Map(routed)), expected));
  // `berth scale` at another gateway changes no spec, only the kept count: missed, a gateway cold-started the old count.
  const scaled = (replicas: number) => ({ ...stored('a'), replicas }) as StoredApp;
  test('a count scaled at another gateway', () => assert.equal(desiredIsStale([scaled(3)], new Map([['a', spec('a')]]), new Map([['a', 2]])), true));
  test('a count this gateway knows', () => assert.equal(desiredIsStale([scaled(3)], new Map([['a', spec('a')]]), new Map([['a', 3]])), false));
  test('a kept count dropped by a new spec', () => assert.equal(desiredIsStale([stored('a')], new Map([['a', spec('a')]]), new Map([['a', 3]])), true));
});
