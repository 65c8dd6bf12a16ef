import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeLanes } from '../../src/gateway/change-lanes.js';
import { appsOfApply, appsOfDelete } from '../../src/gateway/change-scope.js';
import { DesiredIndex } from '../../src/gateway/desired-index.js';
import { fakeSpec } from '../support/fake-activator.js';

/** A change the test ends: `run` records its start, `end` lets it finish. */
function held(log: string[], name: string): { run: () => Promise<string>; end: () => void } {
  let end!: () => void;
  const ended = new Promise<void>((resolve) => (end = resolve));
  return {
    run: async () => {
      log.push(`${name} began`);
      await ended;
      log.push(`${name} ended`);
      return name;
    },
    end,
  };
}

const turns = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('change lanes', () => {
  it("changes of other apps run side by side; one app's changes one after the other", async () => {
    const lanes = new ChangeLanes();
    const log: string[] = [];
    const a1 = held(log, 'a1');
    const b1 = held(log, 'b1');
    const a2 = held(log, 'a2');
    const runs = [lanes.forApps(['a'], a1.run), lanes.forApps(['b'], b1.run), lanes.forApps(['a', 'c'], a2.run)];
    await turns();
    assert.deepEqual(log, ['a1 began', 'b1 began']);
    assert.equal(lanes.busy('c'), true, 'c waits in a2');
    b1.end();
    await turns();
    assert.deepEqual(log, ['a1 began', 'b1 began', 'b1 ended']);
    a1.end();
    await turns();
    assert.deepEqual(log.slice(3), ['a1 ended', 'a2 began']);
    a2.end();
    assert.deepEqual(await Promise.all(runs), ['a1', 'b1', 'a2']);
    await turns();
    assert.equal(lanes.busy('a') || lanes.busy('b') || lanes.busy('c'), false, 'settled lanes are dropped');
  });

  it('a whole change runs after every change asked before it and before every one asked after; a failed change keeps the order', async () => {
    const lanes = new ChangeLanes();
    const log: string[] = [];
    const a = held(log, 'a');
    const whole = held(log, 'whole');
    const b = held(log, 'b');
    const failing = lanes.forApps(['x'], async () => Promise.reject(new Error('refused')));
    const runs = [lanes.forApps(['a'], a.run), lanes.whole(whole.run), lanes.forApps(['b'], b.run)];
    await assert.rejects(failing, /refused/);
    await turns();
    assert.deepEqual(log, ['a began']);
    a.end();
    await turns();
    assert.deepEqual(log, ['a began', 'a ended', 'whole began']);
    whole.end();
    await turns();
    assert.deepEqual(log.slice(3), ['whole ended', 'b began']);
    b.end();
    assert.deepEqual(await Promise.all(runs), ['a', 'whole', 'b']);
  });

  it('a change that throws before it returns a promise, in a lane, alone or in a commit, holds no later change', async () => {
    const lanes = new ChangeLanes();
    const boom = (): Promise<never> => {
      throw new Error('thrown at once');
    };
    await assert.rejects(lanes.forApps(['a', 'b'], boom), /thrown at once/);
    await assert.rejects(lanes.whole(boom), /thrown at once/);
    await assert.rejects(lanes.commit(boom), /thrown at once/);
    const later = await Promise.race([
      Promise.all([lanes.forApps(['a'], async () => 'a'), lanes.forApps(['b'], async () => 'b'), lanes.whole(async () => 'whole'), lanes.commit(async () => 'commit')]),
      turns().then(() => 'wedged'),
    ]);
    assert.deepEqual(later, ['a', 'b', 'whole', 'commit']);
    await turns();
    assert.equal(lanes.busy('a') || lanes.busy('b'), false);
  });

  it('commit sections run one at a time, whichever lanes they come from', async () => {
    const lanes = new ChangeLanes();
    const log: string[] = [];
    const first = held(log, 'first');
    const second = held(log, 'second');
    const runs = [lanes.commit(first.run), lanes.commit(second.run)];
    await turns();
    assert.deepEqual(log, ['first began']);
    first.end();
    await turns();
    assert.deepEqual(log, ['first began', 'first ended', 'second began']);
    second.end();
    await Promise.all(runs);
  });
});

describe('which apps an API change is ordered with', () => {
  it("an apply: its own, the stored apps it is checked against, and an app under way whose replaced spec held a route it claims", () => {
    const desired = new DesiredIndex();
    desired.set(fakeSpec('db'));
    desired.set(fakeSpec('shop', { routes: [{ path: '/shop/' }] }));
    desired.set(fakeSpec('old', { routes: [{ path: '/new-home/' }] }));
    const replaced = new Map([['old', fakeSpec('old', { routes: [{ path: '/was/' }] })]]);
    const web = fakeSpec('web', { dependsOn: ['db'], routes: [{ path: '/shop/' }, { path: '/was/' }] });
    assert.deepEqual([...appsOfApply([web], desired, replaced)].sort(), ['db', 'old', 'shop', 'web']);
    assert.deepEqual([...appsOfApply([fakeSpec('lone')], desired, replaced)], ['lone']);
  });

  it('a delete: its own, and an app under way whose replaced spec depends on it', () => {
    const replaced = new Map([
      ['web', fakeSpec('web', { dependsOn: ['db'] })],
      ['other', fakeSpec('other')],
    ]);
    assert.deepEqual([...appsOfDelete('db', replaced)].sort(), ['db', 'web']);
    assert.deepEqual([...appsOfDelete('other', replaced)], ['other']);
  });
});
