// Usage accounting: the Accountant driven by a fake clock through scripted
// state changes, checked to the second; the split at UTC midnight; the saving;
// and the figures surviving a store close and reopen.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Accountant, wallStep } from '../../src/accounting/accountant.js';
import { splitByDay, utcDay } from '../../src/accounting/usage-day.js';
import type { UsageStatus } from '../../src/accounting/usage-kind.js';
import { figures } from '../../src/accounting/usage-report.js';
import type { AppState } from '../../src/activator/app-status.js';
import { containerTime } from '../../src/cli/commands/usage.js';
import { StateEvents } from '../../src/gateway/state-events.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import type { UsageQuery, UsageRow, UsageStore } from '../../src/store/store.js';

/** Noon UTC, so a scripted sequence of a few minutes stays on one day. */
const T0 = Date.UTC(2026, 0, 10, 12, 0, 0);
const S = 1000;

function status(name: string, state: AppState, replicas = 1, readyInstances = state === 'running' ? replicas : 0): UsageStatus {
  return { name, state, replicas, readyInstances };
}

/** An accountant on a fake clock (no timer), with the declared apps given by `declared`. */
function rig(store: UsageStore, startMs = T0) {
  const clock = { now: startMs };
  let declared: UsageStatus[] = [];
  const acc = new Accountant({ store, now: () => clock.now, flushEveryMs: 0, statuses: () => declared });
  return {
    acc,
    clock,
    declare(list: UsageStatus[]) {
      declared = list;
    },
    /** Moves the clock to start + `s` seconds and reports `state` then. */
    at(s: number, st?: UsageStatus) {
      clock.now = startMs + s * S;
      if (st) acc.observe(st, clock.now);
    },
  };
}

/** Figures of one app over every day, from the accountant's live report. */
async function totalOf(acc: Accountant, app: string, since = new Date(T0 - 30 * 86_400_000)) {
  const report = await acc.usage({ since, app });
  return report.apps.find((a) => a.app === app);
}

/** A UsageStore in memory that can be told to fail. */
class MemoryUsage implements UsageStore {
  rows: UsageRow[] = [];
  fail = false;
  writes = 0;
  async addUsage(rows: readonly UsageRow[]): Promise<void> {
    if (this.fail) throw new Error('disk full');
    this.writes += 1;
    for (const r of rows) {
      const have = this.rows.find((x) => x.app === r.app && x.day === r.day);
      if (!have) this.rows.push({ ...r });
      else {
        have.runningS += r.runningS;
        have.pausedS += r.pausedS;
        have.idleS += r.idleS;
        have.requests += r.requests;
      }
    }
  }
  async pruneUsage(beforeDay: string): Promise<number> {
    const before = this.rows.length;
    this.rows = this.rows.filter((r) => r.day >= beforeDay);
    return before - this.rows.length;
  }
  async queryUsage(q: UsageQuery): Promise<UsageRow[]> {
    return this.rows.filter((r) => (q.sinceDay === undefined || r.day >= q.sinceDay) && (q.app === undefined || r.app === q.app)).map((r) => ({ ...r }));
  }
}

describe('usage days', () => {
  it('cuts an interval at every UTC midnight it crosses', () => {
    const midnight = Date.UTC(2026, 0, 11);
    assert.deepEqual(splitByDay(midnight - 30 * S, midnight + 45 * S), [
      { day: '2026-01-10', ms: 30 * S },
      { day: '2026-01-11', ms: 45 * S },
    ]);
    assert.deepEqual(splitByDay(midnight - S, midnight + 86_400_000 + S).map((p) => [p.day, p.ms]), [
      ['2026-01-10', S],
      ['2026-01-11', 86_400_000],
      ['2026-01-12', S],
    ]);
    assert.deepEqual(splitByDay(midnight, midnight), []);
    assert.deepEqual(splitByDay(midnight + S, midnight), []);
    assert.equal(utcDay(midnight - 1), '2026-01-10');
    assert.equal(utcDay(midnight), '2026-01-11');
  });
});

describe('Accountant', () => {
  it('counts a scripted start, idle stop, restart, pause and stop to the second, with the saving', async () => {
    const r = rig(new MemoryUsage());
    r.declare([status('a', 'stopped')]);
    r.acc.start();
    r.acc.settle(); // t0: declared and stopped, idle from here
    r.at(5, status('a', 'starting')); // 5 s idle; a start costs like running
    r.at(7, status('a', 'running'));
    r.at(8);
    for (let i = 0; i < 3; i++) r.acc.request('a', r.clock.now);
    r.at(37, status('a', 'stopping')); // idle stop after 30 s running
    r.at(38, status('a', 'stopped'));
    r.at(98, status('a', 'starting')); // 60 s stopped
    r.at(100, status('a', 'running'));
    r.at(110, status('a', 'stopping')); // idleAction: pause goes through stopping
    r.at(111, status('a', 'paused'));
    r.at(131, status('a', 'starting')); // 20 s paused; unpausing is a start
    r.at(132, status('a', 'running'));
    r.at(140, status('a', 'stopping'));
    r.at(141, status('a', 'stopped'));
    r.at(200);

    const a = await totalOf(r.acc, 'a');
    // running: 2 + 30 + 1 + 2 + 10 + 1 + 1 + 8 + 1; paused 20; idle 5 + 60 + 59.
    assert.deepEqual(a, {
      app: 'a',
      days: 1,
      runningSeconds: 56,
      pausedSeconds: 20,
      idleSeconds: 124,
      requests: 3,
      alwaysOnSeconds: 200,
      savingSeconds: 144,
      savingPercent: 72,
    });
    // Flushing changes where the figures are, not what they are.
    await r.acc.flush();
    assert.deepEqual(await totalOf(r.acc, 'a'), a);
  });

  it('counts container-seconds: 2 replicas running 10 s are 20 s, and idle is per declared replica', async () => {
    const r = rig(new MemoryUsage());
    r.declare([status('m', 'stopped', 2)]);
    r.acc.start();
    r.acc.settle();
    r.at(10, status('m', 'starting', 2)); // the first instance starts alone
    r.at(12, status('m', 'running', 2, 1)); // the second follows; both run
    r.at(22, status('m', 'stopping', 2));
    r.at(23, status('m', 'stopped', 2));
    r.at(33);
    const m = await totalOf(r.acc, 'm');
    assert.equal(m?.runningSeconds, 2 * 1 + 10 * 2 + 1 * 2);
    assert.equal(m?.idleSeconds, (10 + 10) * 2);
    assert.equal(m?.alwaysOnSeconds, 24 + 40);
    assert.equal(m?.savingSeconds, 40);
    assert.equal(m?.savingPercent, 62.5);
  });

  it('splits time that crosses midnight UTC between the two days', async () => {
    const midnight = Date.UTC(2026, 0, 11);
    const r = rig(new MemoryUsage(), midnight - 60 * S);
    r.declare([status('b', 'stopped', 2)]);
    r.acc.start();
    r.acc.settle();
    r.at(30, status('b', 'running', 2)); // 23:59:30, 30 s idle × 2 before
    r.at(59.999);
    r.acc.request('b', r.clock.now); // 23:59:59.999: still the first day
    r.at(60);
    r.acc.request('b', r.clock.now); // 00:00:00: the second day
    r.at(105, status('b', 'stopped', 2)); // 00:00:45
    r.at(165); // 00:01:45: 60 s idle × 2
    await r.acc.flush();

    const report = await r.acc.usage({ since: new Date(midnight - 86_400_000), app: 'b' });
    assert.equal(report.since, '2026-01-10');
    assert.deepEqual(
      report.days.map((d) => [d.day, d.runningSeconds, d.idleSeconds, d.requests, d.savingSeconds, d.savingPercent]),
      [
        ['2026-01-10', 60, 60, 1, 60, 50],
        ['2026-01-11', 90, 120, 1, 120, 57.14],
      ],
    );
    assert.deepEqual(
      [report.total.runningSeconds, report.total.idleSeconds, report.total.requests, report.total.alwaysOnSeconds, report.total.savingSeconds, report.total.savingPercent],
      [150, 180, 2, 330, 180, 54.55],
    );
    // since: only the days from the one it falls on.
    const today = await r.acc.usage({ since: new Date(midnight + 5 * S), app: 'b' });
    assert.deepEqual(today.days.map((d) => d.day), ['2026-01-11']);
  });

  it('counts from gateway start: an adopted running app accrues running time from then, a start during start-up idle before it', async () => {
    const r = rig(new MemoryUsage());
    r.declare([status('adopted', 'running'), status('woken', 'running'), status('quiet', 'stopped')]);
    r.acc.start(); // the gateway starts at t0
    r.at(2, status('adopted', 'running')); // found running by reconcile 2 s later
    r.at(3, status('woken', 'starting')); // a request woke it during start-up
    r.at(4, status('woken', 'running'));
    r.at(5);
    r.acc.settle(); // 'quiet' sent no event: stopped since t0
    r.at(10);
    const adopted = await totalOf(r.acc, 'adopted');
    const woken = await totalOf(r.acc, 'woken');
    const quiet = await totalOf(r.acc, 'quiet');
    assert.deepEqual([adopted?.runningSeconds, adopted?.idleSeconds], [10, 0]);
    assert.deepEqual([woken?.runningSeconds, woken?.idleSeconds], [7, 3]);
    assert.deepEqual([quiet?.runningSeconds, quiet?.idleSeconds], [0, 10]);
  });

  it('does not count the time the gateway was down', async () => {
    const store = new MemoryUsage();
    const first = rig(store);
    first.declare([status('a', 'running')]);
    first.acc.start();
    first.acc.settle();
    first.at(10);
    await first.acc.close(); // the gateway stops; the container keeps running

    const second = rig(store, T0 + 110 * S); // back 100 s later
    second.declare([status('a', 'running')]);
    second.acc.start();
    second.at(1, status('a', 'running')); // adopted
    second.acc.settle();
    second.at(10);
    const a = await totalOf(second.acc, 'a');
    assert.equal(a?.runningSeconds, 10 + 10, 'the 100 s in between are not counted');
    assert.equal(a?.alwaysOnSeconds, 20);
    assert.equal(a?.savingPercent, 0);
    // Nothing accrues after close.
    first.acc.observe(status('a', 'stopped'), T0 + 500 * S);
    first.acc.request('a', T0);
    assert.equal((await totalOf(second.acc, 'a'))?.requests, 0);
  });

  it('follows the declared set: apps appearing start counting, deleted ones stop, replica changes apply', async () => {
    const events = new StateEvents();
    const r = rig(new MemoryUsage());
    r.declare([status('x', 'stopped')]);
    r.acc.start(events);
    r.acc.settle();
    r.at(10);
    r.declare([status('x', 'stopped'), status('y', 'stopped')]);
    r.acc.sync(r.clock.now); // y came with a config reload: counted from now
    r.at(20);
    events.publish({ type: 'deleted', app: 'x', time: new Date(r.clock.now) });
    r.declare([status('y', 'stopped', 3)]);
    r.acc.sync(r.clock.now); // y scaled to 3 replicas
    r.at(30);
    events.publish({ type: 'state', app: 'y', time: new Date(r.clock.now), status: { ...status('y', 'running', 3), since: new Date(r.clock.now), inFlight: 0, waiting: 0 } });
    r.at(40);
    assert.equal((await totalOf(r.acc, 'x'))?.idleSeconds, 20);
    const y = await totalOf(r.acc, 'y');
    assert.deepEqual([y?.idleSeconds, y?.runningSeconds], [10 + 10 * 3, 10 * 3]);
    await r.acc.close();
    assert.equal(events.size, 0, 'close unsubscribes');
  });

  it('keeps figures the store refused and writes them on the next flush', async () => {
    const store = new MemoryUsage();
    const r = rig(store);
    r.declare([status('a', 'running')]);
    r.acc.start();
    r.acc.settle();
    r.at(10);
    r.acc.request('a', r.clock.now);
    store.fail = true;
    await r.acc.flush();
    assert.equal(store.rows.length, 0);
    assert.equal((await totalOf(r.acc, 'a'))?.runningSeconds, 10, 'still reported');
    store.fail = false;
    r.at(15);
    await r.acc.flush();
    assert.deepEqual(store.rows, [{ app: 'a', day: '2026-01-10', runningS: 15, pausedS: 0, idleS: 0, requests: 1 }]);
  });

  it('prints container time for the CLI table: seconds, minutes, hours and minutes, then hours', () => {
    assert.deepEqual([0.4, 42, 60, 725, 3600, 11_220, 99 * 3600 + 59 * 60, 444_240].map(containerTime), ['0s', '42s', '1m 00s', '12m 05s', '1h 00m', '3h 07m', '99h 59m', '123.4h']);
  });

  it('reports a null percentage when nothing was watched', () => {
    assert.equal(figures([]).savingPercent, null);
    assert.equal(figures([{ app: 'r', day: '2026-01-10', runningS: 0, pausedS: 0, idleS: 0, requests: 4 }]).requests, 4);
  });
});

describe('usage in the SQLite store', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-usage-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('adds up flushes, and the figures are still there after the store is closed and reopened', async () => {
    const path = join(dir, 'berth.db');
    let store = new SqliteStore({ path });
    await store.open();
    const r = rig(store);
    r.declare([status('a', 'stopped'), status('b', 'stopped')]);
    r.acc.start();
    r.acc.settle();
    r.at(10, status('a', 'starting'));
    r.at(12, status('a', 'running'));
    r.acc.request('a', r.clock.now);
    r.at(20);
    await r.acc.flush(); // a: 10 idle, 2 + 8 running so far
    r.at(42, status('a', 'stopped'));
    r.at(50);
    await r.acc.close(); // a: + 22 running, 8 idle
    await store.close();

    store = new SqliteStore({ path });
    await store.open();
    try {
      assert.deepEqual(await store.queryUsage({}), [
        { app: 'a', day: '2026-01-10', runningS: 32, pausedS: 0, idleS: 18, requests: 1 },
        { app: 'b', day: '2026-01-10', runningS: 0, pausedS: 0, idleS: 50, requests: 0 },
      ]);
      assert.deepEqual((await store.queryUsage({ app: 'b', sinceDay: '2026-01-11' })).length, 0);
      // A new accountant on the reopened store reports them.
      const again = new Accountant({ store, now: () => T0 + 60 * S, flushEveryMs: 0 });
      const report = await again.usage({ since: new Date(T0) });
      assert.deepEqual(report.apps.map((x) => [x.app, x.runningSeconds, x.idleSeconds, x.requests, x.savingPercent]), [
        ['a', 32, 18, 1, 36],
        ['b', 0, 50, 0, 100],
      ]);
      assert.deepEqual([report.total.runningSeconds, report.total.alwaysOnSeconds, report.total.savingSeconds], [32, 100, 68]);
      // A bad row fails the whole batch: nothing of it is written.
      await assert.rejects(
        store.addUsage([
          { app: 'a', day: '2026-01-10', runningS: 1, pausedS: 0, idleS: 0, requests: 0 },
          { app: 'a', day: '2026-01-11', runningS: -1, pausedS: 0, idleS: 0, requests: 0 },
        ]),
        /runningS must be a finite number/,
      );
      assert.equal((await store.queryUsage({ app: 'a' }))[0]?.runningS, 32);
    } finally {
      await store.close();
    }
  });
});

describe('usage retention', () => {
  it('drops the rows of days older than maxAge from the SQLite store (the boundary day stays), recent ones stay; forever without one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-usage-retention-'));
    const store = new SqliteStore({ path: join(dir, 'berth.db') });
    await store.open();
    try {
      const row = (app: string, day: string) => ({ app, day, runningS: 1, pausedS: 0, idleS: 0, requests: 1 });
      await store.addUsage([row('gone', '2025-01-01'), row('a', '2025-12-10'), row('a', '2025-12-11'), row('a', '2026-01-10'), row('b', '2026-01-09')]);
      // T0 is 2026-01-10 noon: 31 days back is 2025-12-10 noon, so that day is the first one kept.
      const keep = new Accountant({ store, now: () => T0, flushEveryMs: 0 });
      assert.equal(await keep.prune(), 0, 'no retention given: rows are kept forever');
      const acc = new Accountant({ store, now: () => T0, flushEveryMs: 0, maxAgeMs: 31 * 86_400_000 });
      assert.equal(await acc.prune(), 1);
      assert.deepEqual((await store.queryUsage({})).map((r) => `${r.app} ${r.day}`), ['a 2025-12-10', 'a 2025-12-11', 'a 2026-01-10', 'b 2026-01-09']);
      assert.equal(await acc.prune(), 0, 'a second prune finds nothing more');
      await assert.rejects(store.pruneUsage('last year'), /YYYY-MM-DD/);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('prunes from the flush timer, not before it fires', async () => {
    const store = new MemoryUsage();
    store.rows.push({ app: 'old', day: '2020-01-01', runningS: 1, pausedS: 0, idleS: 0, requests: 0 });
    const acc = new Accountant({ store, now: () => T0, flushEveryMs: 20, maxAgeMs: 86_400_000 });
    acc.start();
    try {
      assert.equal(store.rows.length, 1);
      const deadline = Date.now() + 10_000;
      while (store.rows.length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(store.rows.length, 0);
    } finally {
      await acc.close();
    }
  });
});

describe('several gateways: container time counted by the leader only, requests by each for its own', () => {
  it('a gateway that does not lead counts its requests but no container time; once it leads, time counts from then', async () => {
    const store = new MemoryUsage();
    const clock = { now: T0 };
    let leads = false;
    const acc = new Accountant({ store, now: () => clock.now, flushEveryMs: 0, statuses: () => [], accrues: () => leads });
    acc.start();
    acc.settle();
    acc.observe(status('web', 'running'), T0);
    acc.request('web', T0 + 1 * S);
    clock.now = T0 + 10 * S;
    const following = await totalOf(acc, 'web');
    assert.deepEqual([following?.runningSeconds, following?.requests], [0, 1], 'no container time while another gateway leads');
    leads = true;
    acc.startAccruing(clock.now);
    clock.now = T0 + 15 * S;
    await acc.flush();
    assert.deepEqual(
      store.rows.map((r) => [r.app, r.runningS, r.requests]),
      [['web', 5, 1]],
      'the 10 s before leading are the old leader\'s to count',
    );
    await acc.close();
  });
});

describe('usage and the wall clock stepping', () => {
  /** An accountant on a wall clock and a monotonic one that the test moves apart. */
  function stepRig() {
    const clock = { wall: T0, mono: 1_000_000 };
    const store = new MemoryUsage();
    const acc = new Accountant({ store, now: () => clock.wall, monotonic: () => clock.mono, flushEveryMs: 0, statuses: () => [status('a', 'running'), status('b', 'stopped')] });
    acc.start();
    acc.settle();
    const pass = (ms: number) => {
      clock.wall += ms;
      clock.mono += ms;
    };
    return { acc, clock, store, pass };
  }

  it('a step forward of three hours is not counted as container time', async () => {
    const r = stepRig();
    r.pass(60 * S);
    await r.acc.flush();
    r.clock.wall += 3 * 3_600_000; // NTP steps the clock; no time passed
    r.pass(30 * S);
    await r.acc.flush();
    const a = await totalOf(r.acc, 'a');
    const b = await totalOf(r.acc, 'b');
    assert.equal(a?.runningSeconds, 90, 'the 90 s that passed, not 3 h more');
    assert.equal(b?.idleSeconds, 90);
  });

  it('a step back of an hour goes on counting the time that passes, never negative', async () => {
    const r = stepRig();
    r.pass(60 * S);
    await r.acc.flush();
    r.clock.wall -= 3_600_000;
    r.pass(30 * S);
    r.acc.observe(status('a', 'stopped'), r.clock.wall);
    r.pass(10 * S);
    const a = await totalOf(r.acc, 'a');
    assert.equal(a?.runningSeconds, 90, 'the running time before and after the step');
    assert.equal(a?.idleSeconds, 10);
    for (const row of r.store.rows) assert.ok(row.runningS >= 0 && row.idleS >= 0 && row.pausedS >= 0);
  });

  it('tells a step from timer jitter, and says how far it went', () => {
    assert.equal(wallStep({ wallMs: 0, monoMs: 0 }, { wallMs: 10_500, monoMs: 10_000 }), 0);
    assert.equal(wallStep({ wallMs: 0, monoMs: 0 }, { wallMs: 3_610_000, monoMs: 10_000 }), 3_600_000);
    assert.equal(wallStep({ wallMs: 0, monoMs: 0 }, { wallMs: -3_590_000, monoMs: 10_000 }), -3_600_000);
  });
});
