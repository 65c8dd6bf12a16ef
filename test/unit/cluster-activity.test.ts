// The activity flow of the state feed (workers → control), as tables: what a
// worker reports, and what the control's activator is told from it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { availableParallelism, tmpdir } from 'node:os';
import { ActivityTable, activatorCalls, type ActivityDelta } from '../../src/cluster/activity-table.js';
import type { ActivityEntry } from '../../src/cluster/state-feed.js';
import { WorkerActivity } from '../../src/cluster/worker-activity.js';
import { WorkerUpstreams, type ControlLink } from '../../src/cluster/worker-upstreams.js';
import type { WakeAnswer } from '../../src/cluster/state-feed.js';
import { eventually } from '../support/fake-activator.js';
import { buildConfig } from '../../src/config/load-config.js';
import { workerCount } from '../../src/config/config-schema.js';

describe('ActivityTable: absolute reports become deltas for the idle clock', () => {
  const cases: Array<{ name: string; steps: Array<[worker: number, entries: ActivityEntry[]] | ['drop', number]>; deltas: ActivityDelta[]; inFlight: number }> = [
    { name: 'first report of one request', steps: [[1, [['a', 1, [['i1', 1]]]]]], deltas: [{ app: 'a', delta: 1, touched: true }], inFlight: 1 },
    { name: 'same count again: a touch', steps: [[1, [['a', 2, []]]], [1, [['a', 2, []]]]], deltas: [{ app: 'a', delta: 0, touched: true }], inFlight: 2 },
    { name: 'came and went between reports', steps: [[1, [['a', 0, []]]]], deltas: [{ app: 'a', delta: 0, touched: true }], inFlight: 0 },
    { name: 'two workers add up', steps: [[1, [['a', 2, []]]], [2, [['a', 3, []]]]], deltas: [{ app: 'a', delta: 3, touched: true }], inFlight: 5 },
    { name: 'a report going down', steps: [[1, [['a', 4, []]]], [1, [['a', 1, []]]]], deltas: [{ app: 'a', delta: -3, touched: true }], inFlight: 1 },
    { name: 'a dead worker gives back what it held', steps: [[1, [['a', 2, []]]], [2, [['a', 1, []]]], ['drop', 1]], deltas: [{ app: 'a', delta: -2, touched: false }], inFlight: 1 },
    { name: 'dropping an unknown worker changes nothing', steps: [['drop', 9]], deltas: [], inFlight: 0 },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const table = new ActivityTable();
      let last: ActivityDelta[] = [];
      for (const step of c.steps) last = step[0] === 'drop' ? table.drop(step[1]) : table.report(step[0], step[1]);
      assert.deepEqual(last, c.deltas);
      assert.equal(table.inFlight('a'), c.inFlight);
    });
  }

  test('per-instance counts add up over workers, for drains', () => {
    const table = new ActivityTable();
    table.report(1, [['a', 3, [['i1', 2], ['i2', 1]]]]);
    table.report(2, [['a', 1, [['i1', 1]]]]);
    assert.equal(table.instanceInFlight('a', 'i1'), 3);
    assert.equal(table.instanceInFlight('a', 'i2'), 1);
    table.report(1, [['a', 0, []]]);
    assert.equal(table.instanceInFlight('a', 'i1'), 1);
    assert.equal(table.instanceInFlight('a', 'i2'), 0);
  });
});

test('activatorCalls: began per request more, ended per request fewer, a pair for a touch', () => {
  const table: Array<[ActivityDelta, { began: number; ended: number }]> = [
    [{ app: 'a', delta: 3, touched: true }, { began: 3, ended: 0 }],
    [{ app: 'a', delta: -2, touched: true }, { began: 0, ended: 2 }],
    [{ app: 'a', delta: 0, touched: true }, { began: 1, ended: 1 }],
    [{ app: 'a', delta: 0, touched: false }, { began: 0, ended: 0 }],
    [{ app: 'a', delta: -1, touched: false }, { began: 0, ended: 1 }],
  ];
  for (const [delta, calls] of table) assert.deepEqual(activatorCalls(delta), calls, JSON.stringify(delta));
});

describe('WorkerActivity: what a worker reports', () => {
  const byInstance = (app: string): Array<[string, number]> => (app === 'a' ? [['i1', 1]] : []);
  const cases: Array<{ name: string; ops: Array<['b' | 'e', string]>; report: ActivityEntry[] }> = [
    { name: 'nothing happened: nothing to report', ops: [], report: [] },
    { name: 'one request in flight, with its instance', ops: [['b', 'a']], report: [['a', 1, [['i1', 1]]]] },
    { name: 'a request that came and went is still reported (activity)', ops: [['b', 'a'], ['e', 'a']], report: [['a', 0, []]] },
    { name: 'two apps', ops: [['b', 'a'], ['b', 'b'], ['b', 'b'], ['e', 'b']], report: [['a', 1, [['i1', 1]]], ['b', 1, []]] },
    { name: 'an end without a beginning is ignored', ops: [['e', 'x']], report: [] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const activity = new WorkerActivity(() => undefined, byInstance, 60_000);
      for (const [op, app] of c.ops) op === 'b' ? activity.began(app) : activity.ended(app);
      assert.deepEqual(activity.pending(), c.report);
      assert.deepEqual(activity.pending(), [], 'reported once');
      activity.close();
    });
  }

  test('a batch goes out after the interval, and flush sends at once', async () => {
    const sent: ActivityEntry[][] = [];
    const activity = new WorkerActivity((e) => sent.push(e), () => [], 20);
    activity.began('a');
    activity.began('a');
    assert.equal(sent.length, 0, 'batched, not per request');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(sent, [[['a', 2, []]]]);
    activity.ended('a');
    activity.flush();
    assert.deepEqual(sent[1], [['a', 1, []]]);
    activity.close();
  });
});

test('a control that does not read: reports wait while the last is unwritten, and the next carries the counts of then; a barrier\'s flush goes out anyway', async () => {
  const sent: ActivityEntry[][] = [];
  let unwritten = 0;
  const activity = new WorkerActivity((e) => (sent.push(e), unwritten++), () => [], 10, () => unwritten > 0);
  activity.began('a');
  await eventually('the first report', () => sent.length === 1);
  // The control reads nothing from here: the report stays unwritten.
  for (let i = 0; i < 5; i++) {
    activity.began('a');
    await new Promise((r) => setTimeout(r, 15));
  }
  activity.ended('a');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(sent.length, 1, 'nothing more queued while the channel is full');
  unwritten = 0;
  await eventually('one report once it reads', () => sent.length === 2);
  assert.deepEqual(sent[1], [['a', 5, []]], 'the absolute count of now');
  unwritten = 1;
  activity.began('a');
  activity.flush();
  assert.deepEqual(sent[2], [['a', 6, []]], 'a barrier is answered with the counts whatever the backlog');
  activity.close();
});

describe('WorkerUpstreams + WorkerActivity: the instance a request goes to is reported, however late it is chosen', () => {
  const req = { method: 'GET', url: '/', headers: {} } as IncomingMessage;
  const address = (id: string) => ({ id, host: '127.0.0.1', port: 1 });
  /** A worker's source and activity as worker-main wires them, with the control's wake answers in the test's hands. */
  function worker() {
    const sent: ActivityEntry[][] = [];
    const answers: Array<(answer: WakeAnswer) => void> = [];
    let upstreams!: WorkerUpstreams;
    const activity = new WorkerActivity((e) => sent.push(e), (app) => upstreams.inFlightByInstance(app), 20);
    const link: ControlLink = { activity, wake: () => ({ answer: new Promise<WakeAnswer>((resolve) => answers.push(resolve)), leave: () => undefined }), unreachable: async () => false };
    upstreams = new WorkerUpstreams(link, Buffer.alloc(32));
    upstreams.setRoutes([{ app: 'web', routes: [{ path: '/web/', stripPrefix: false }], balance: 'round-robin' }]);
    upstreams.applyApps([{ app: 'web', version: 1, ready: [], status: { state: 'stopped', ready: false } }]);
    /** The last count the control was told for one instance of web (what its drains wait on). */
    const reported = (id: string) => {
      const last = sent.flat().filter(([app]) => app === 'web').at(-1);
      return last?.[2].find(([instance]) => instance === id)?.[1] ?? 0;
    };
    return { sent, answers, activity, upstreams, reported };
  }

  test('a request held for a cold start (a WebSocket, a long poll): its instance, chosen after the first report, reaches the control', async () => {
    const w = worker();
    // As the proxy does: began, then admit; the control is asked, and the report of the begun request goes out meanwhile.
    w.upstreams.began('web');
    const admission = w.upstreams.admit('web', req);
    assert.equal(admission.kind, 'later');
    await eventually('the first report', () => w.sent.length === 1);
    assert.deepEqual(w.sent[0], [['web', 1, []]]);
    w.answers[0]!({ kind: 'ready', upstream: address('i1') });
    const settled = admission.kind === 'later' ? await admission.admission : admission;
    assert.equal(settled.kind, 'ready');
    // The proxy forwards (or opens the tunnel): the instance has one more in flight, nothing else begins or ends.
    if (settled.kind === 'ready') settled.upstream.inFlight++;
    await eventually('the instance reported', () => w.reported('i1') === 1, 2_000);
    if (settled.kind === 'ready') settled.upstream.inFlight--;
    w.upstreams.ended('web');
    await eventually('the end reported', () => w.sent.at(-1)?.[0]?.[1] === 0, 2_000);
    w.activity.close();
  });

  test('a retry moved to another instance: the control hears that the first has nothing left and the second has it', async () => {
    const w = worker();
    w.upstreams.applyApps([{ app: 'web', version: 2, ready: [address('a'), address('b')], status: { state: 'running', ready: true } }]);
    w.upstreams.began('web');
    const first = w.upstreams.admit('web', req);
    assert.equal(first.kind, 'ready');
    const a = first.kind === 'ready' ? first.upstream : undefined!;
    a.inFlight++;
    await eventually('the first report', () => w.reported(a.instanceId) === 1);
    // Its connection failed (after a connect timeout, long after the report): the request goes to the other one.
    a.inFlight--;
    const other = w.upstreams.admitReady('web', req, a.instanceId)!;
    assert.notEqual(other.upstream.instanceId, a.instanceId);
    other.upstream.inFlight++;
    await eventually('the move reported', () => w.reported(other.upstream.instanceId) === 1 && w.reported(a.instanceId) === 0, 2_000);
    other.upstream.inFlight--;
    w.upstreams.ended('web');
    w.activity.close();
  });
});

test('config: workers is 1 by default, a number, or auto (the core count); anything else is refused', async () => {
  assert.equal((await buildConfig({}, tmpdir())).workers, 1);
  assert.equal((await buildConfig({ workers: 2 }, tmpdir())).workers, 2);
  assert.equal((await buildConfig({ workers: 'auto' }, tmpdir())).workers, availableParallelism());
  for (const bad of [0, -1, 1.5, 'many', 65]) await assert.rejects(buildConfig({ workers: bad }, tmpdir()), /workers: must be auto or a whole number from 1 to 64/, String(bad));
});

test('config: auto is one worker per core, but at most 64 on a machine with more cores', () => {
  const cases: Array<[number | 'auto', number, number]> = [
    ['auto', 1, 1],
    ['auto', 2, 2],
    ['auto', 64, 64],
    ['auto', 128, 64],
    ['auto', 0, 1],
    [3, 128, 3],
  ];
  for (const [workers, cores, expected] of cases) assert.equal(workerCount(workers, cores), expected, `${workers} on ${cores} cores`);
});
