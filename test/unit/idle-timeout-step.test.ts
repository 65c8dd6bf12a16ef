// What an app's idle timeout running out comes to (idle-stop.ts), as a table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { idleTimeoutStep, type IdleTimeoutStep } from '../../src/activator/idle-stop.js';

test('idleTimeoutStep: only a running scale-to-zero app not closed is stopped, by the gateway that leads; one that follows looks again', () => {
  const facts = (running: boolean, scalesToZero: boolean, closed: boolean, acts: boolean) => ({ running, scalesToZero, closed, acts });
  const cases: [string, ReturnType<typeof facts>, IdleTimeoutStep][] = [
    ['running, scales to zero, leads', facts(true, true, false, true), 'stop'],
    ['running, scales to zero, follows', facts(true, true, false, false), 'recheck'],
    ['not running (stopped meanwhile)', facts(false, true, false, true), 'ignore'],
    ['scale.min 1 or more: never idles out', facts(true, false, false, true), 'ignore'],
    ['closed (deleted, or shutting down)', facts(true, true, true, true), 'ignore'],
    ['closed, following: no look again', facts(true, true, true, false), 'ignore'],
  ];
  for (const [why, f, expected] of cases) assert.equal(idleTimeoutStep(f), expected, why);
});
