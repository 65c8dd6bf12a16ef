import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdmissionGate } from '../../src/activator/admission.js';
import type { BerthError } from '../../src/errors.js';
import { eventually } from '../support/fake-activator.js';

const cases: Array<{ name: string; setup: (g: AdmissionGate, clock: { now: number }) => void; code?: string; retryAfterS?: number }> = [
  { name: 'nothing wrong: may wait', setup: () => undefined },
  { name: 'queue full', setup: (g) => (g.waiting = 3), code: 'overloaded', retryAfterS: 1 },
  { name: 'two failures: not looping yet', setup: (g, c) => [1, 2].forEach(() => g.backoff.fail(c.now)) },
  { name: 'three failures: crash loop, 2 s', setup: (g, c) => [1, 2, 3].forEach(() => g.backoff.fail(c.now)), code: 'overloaded', retryAfterS: 2 },
  { name: 'engine down: engine_unavailable, not a crash', setup: (g) => g.engineDown(5), code: 'engine_unavailable', retryAfterS: 5 },
];

for (const c of cases) {
  test(`admission: ${c.name}`, () => {
    const clock = { now: 1_000 };
    const gate = new AdmissionGate(() => Promise.reject(new Error('down')), () => clock.now);
    try {
      c.setup(gate, clock);
      const refused = gate.refusal('web', undefined, 3) as (BerthError & { retryAfterS?: number }) | undefined;
      assert.equal(refused?.code, c.code);
      assert.equal(refused?.retryAfterS, c.retryAfterS);
      if (c.code === 'engine_unavailable') assert.equal(gate.backoff.looping, false);
    } finally {
      gate.close();
    }
  });
}

test('admission: the refusal ends when the clock passes the backoff', () => {
  const clock = { now: 0 };
  const gate = new AdmissionGate(async () => undefined, () => clock.now);
  for (let i = 0; i < 3; i++) gate.backoff.fail(clock.now);
  assert.ok(gate.refusal('web', 'boom', 10));
  assert.equal(gate.retryDelayMs(), 2_000);
  clock.now = 2_000;
  assert.equal(gate.refusal('web', 'boom', 10), undefined);
});

test('admission: an engine that answers again ends the outage at once', async () => {
  let up = false;
  const gate = new AdmissionGate(() => (up ? Promise.resolve() : Promise.reject(new Error('down'))));
  try {
    gate.engineDown(30);
    assert.equal(gate.refusal('web', undefined, 10)?.code, 'engine_unavailable');
    up = true;
    // Polled, not slept for 400 ms: on a loaded machine the next 250 ms ping may come later than that.
    // The Retry-After is 30 s: only a ping ends the outage within this wait.
    await eventually('the ping to find the engine back', () => gate.refusal('web', undefined, 10) === undefined, 10_000);
    assert.equal(gate.refusal('web', undefined, 10), undefined);
    assert.equal(gate.retryDelayMs(), 0);
  } finally {
    gate.close();
  }
});
