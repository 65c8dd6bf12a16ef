/**
 * The engine's event stream is how berth learns that a container exited, started or paused
 * behind its back. One event whose handling threw ended the loop that reads it for good:
 * every later exit went unseen until a resync looked, the app showing running meanwhile.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { eventually, fakeActivator, fakeSpec } from '../support/fake-activator.js';
import { FakeRuntime } from '../support/fake-runtime.js';

test('an engine event whose handling fails is logged, and the events after it are still followed', async () => {
  const rt = new FakeRuntime();
  const lines: string[] = [];
  const logger = pino({ level: 'error' }, new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString()), done()) }));
  // No resync within the test: only the event stream can tell the exit.
  const a = fakeActivator(rt, { logger, resyncEveryMs: 600_000 });
  try {
    await a.reconcile([fakeSpec('web')]);
    await a.acquire('web');
    const id = rt.running('web')[0]!.id;
    a.controller('web')!.instanceChanged = () => {
      throw new Error('a handler that throws');
    };
    rt.outsideEdit(id);
    await eventually('the failure logged', () => lines.some((l) => l.includes('handling an engine event failed')));
    assert.match(lines.find((l) => l.includes('handling an engine event failed'))!, /"event":"changed".*a handler that throws/);
    // `docker kill` behind berth's back: the die event still reaches the app.
    await rt.outsideSignal(id, 9, 137);
    await eventually('the exit seen', () => a.status('web')?.state !== 'running', 2_000);
    assert.ok(!lines.some((l) => l.includes('engine event stream ended')), 'the stream was not given up');
  } finally {
    a.close();
    await rt.close();
  }
});
