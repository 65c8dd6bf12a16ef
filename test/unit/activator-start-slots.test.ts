/**
 * Start slots (limits.concurrentStarts) always come back: a start that fails gives
 * its slot back at once, so does one a stop or a delete calls off, and no mix of
 * starts, readiness, failures and call-offs leaves one held (a leaked slot is a
 * cold start lost to every app for good; all of them, and no app starts again).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Activator } from '../../src/activator/activator.js';
import type { AppSpec } from '../../src/spec/types.js';
import { eventually, fakeActivator, fakeSpec, waitForState } from '../support/fake-activator.js';
import { FakeRuntime, sleep } from '../support/fake-runtime.js';

/** `web`, the next start behind `first` (which took the only slot), gets its slot within `withinMs`: `first` gave it back. */
async function nextStartsPromptly(a: Activator, withinMs: number): Promise<void> {
  const began = performance.now();
  await a.acquire('web');
  assert.ok(performance.now() - began < withinMs, `web started ${Math.round(performance.now() - began)} ms later, not at once`);
  assert.equal(a.startSlotsInUse, 0);
}

for (const [why, behaviour] of [
  ['its container exits at once', { exitAfterMs: 5, exitCode: 1 }],
  ['the engine refuses its start', { startError: () => new Error('driver failed programming external connectivity') }],
] as const) {
  test(`a start that fails because ${why} gives its slot back at once, however long its start timeout and slot hold`, async () => {
    const rt = new FakeRuntime();
    rt.behave('bad', behaviour);
    const a = fakeActivator(rt, { startLimits: { concurrentStarts: 1, startSlotHoldMs: 60_000 } });
    try {
      await a.reconcile([fakeSpec('bad', { startTimeout: '60s' }), fakeSpec('web', { startTimeout: '5s' })]);
      const bad = a.acquire('bad').then(
        () => 'served',
        (err: unknown) => String(err),
      );
      await eventually('bad reached the engine', () => rt.calls.start === 1);
      assert.doesNotMatch(await bad, /served/);
      assert.equal(a.startSlotsInUse, 0, 'its slot is back as soon as it failed');
      await nextStartsPromptly(a, 1_500);
    } finally {
      a.close();
      await rt.close();
    }
  });
}

for (const how of ['stop', 'delete'] as const) {
  test(`a start called off by a ${how} while it waits for readiness gives its slot back at once`, async () => {
    const rt = new FakeRuntime();
    rt.behave('slow', { neverReady: true });
    const a = fakeActivator(rt, { startLimits: { concurrentStarts: 1, startSlotHoldMs: 60_000 } });
    try {
      const web = fakeSpec('web', { startTimeout: '5s' });
      await a.reconcile([fakeSpec('slow', { startTimeout: '60s' }), web]);
      const slow = a.acquire('slow').then(
        () => 'served',
        (err: unknown) => String(err),
      );
      await eventually('slow holds the only slot, waiting for readiness', () => rt.calls.start === 1 && a.startSlotsInUse === 1);
      await sleep(50);
      if (how === 'stop') await a.controller('slow')!.stop('stopped through the API');
      else await a.reconcile([web], ['slow']);
      assert.match(await slow, /called off|deleted|removed|stopped/);
      assert.equal(a.startSlotsInUse, 0);
      await nextStartsPromptly(a, 1_500);
    } finally {
      a.close();
      await rt.close();
    }
  });
}

/** The apps of the property below, one per way a start can go. */
const BEHAVIOURS = {
  ready: { readyAfterMs: 20 },
  'slow-engine': { startDelayMs: 60, readyAfterMs: 10 },
  'never-ready': { neverReady: true },
  exits: { exitAfterMs: 5, exitCode: 1 },
  refused: { startError: () => new Error('the engine refused the start') },
} as const;
type AppName = keyof typeof BEHAVIOURS;
const NAMES = Object.keys(BEHAVIOURS) as AppName[];

type Step = { kind: 'request' | 'stop' | 'delete'; app: AppName; afterMs: number };
const step: fc.Arbitrary<Step> = fc.record({ kind: fc.constantFrom('request', 'request', 'request', 'stop', 'delete'), app: fc.constantFrom(...NAMES), afterMs: fc.integer({ min: 0, max: 40 }) });

/** Runs `steps` overlapping (each `afterMs` after the one before, none awaited before the next), then checks every slot came back. */
async function runSteps(slots: number, holdMs: number, steps: readonly Step[]): Promise<void> {
  const rt = new FakeRuntime();
  for (const name of NAMES) rt.behave(name, BEHAVIOURS[name]);
  const specs = new Map<AppName, AppSpec>(NAMES.map((n) => [n, fakeSpec(n, { startTimeout: '400ms' })]));
  const a = fakeActivator(rt, { startLimits: { concurrentStarts: slots, startSlotHoldMs: holdMs } });
  let mostHeld = 0;
  const sample = setInterval(() => (mostHeld = Math.max(mostHeld, a.startSlotsInUse)), 2);
  try {
    await a.reconcile([...specs.values()]);
    const pending: Promise<unknown>[] = [];
    for (const s of steps) {
      await sleep(s.afterMs);
      if (s.kind === 'request') pending.push(a.acquire(s.app).catch(() => undefined));
      else if (s.kind === 'stop') pending.push(a.controller(s.app)?.stop('stopped through the API').catch(() => undefined) ?? Promise.resolve());
      else if (specs.delete(s.app)) pending.push(a.reconcile([...specs.values()], [s.app]).catch(() => undefined));
    }
    // Every start, failure and call-off ends within its start timeout (400 ms) and a stop's drain: bounded well inside this.
    let settled = false;
    void Promise.all(pending).then(() => (settled = true));
    await eventually('every step settled', () => settled, 5_000);
    assert.equal(a.startSlotsInUse, 0, `a slot stayed held after ${JSON.stringify(steps)}`);
    assert.ok(mostHeld <= slots, `${mostHeld} slots held at once, more than ${slots}`);
    assert.deepEqual(rt.doubleStarts, []);
  } catch (err) {
    if (process.env.BERTH_SLOTS_VERBOSE) console.error(String(err));
    throw err;
  } finally {
    clearInterval(sample);
    a.close();
    await rt.close();
  }
}

test('start slots never leak over random overlapping requests, stops and deletes of apps that get ready, never do, exit or are refused', { timeout: 60_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 3 }), fc.constantFrom(0, 30, 60_000), fc.array(step, { minLength: 3, maxLength: 12 }), (slots, holdMs, steps) => runSteps(slots, holdMs, steps)),
    // Fixed, as the activator model's is: a random seed would make CI flaky on a new path. Change it locally to explore.
    { seed: 20261202, numRuns: Number(process.env.BERTH_SLOTS_RUNS ?? 10), endOnFailure: false },
  );
});
