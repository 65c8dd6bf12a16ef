// A Docker engine that accepts connections and never answers (a hung dockerd, a
// wedged proxy in front of it), as the runtime sees it: every Engine API call fails
// within the configured engine timeout as engine_unavailable. Only a black-holed
// socket (EngineProxy never relays here), no engine: it runs beside the engine lane.
// The gateway's side (a fast 503 for a cold start) is test/integration/engine-blackhole.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { EngineUnavailableError } from '../../src/errors.js';
import { DockerRuntime } from '../../src/runtime/docker/docker-runtime.js';
import { boundEngineCalls } from '../../src/runtime/docker/engine-timeout.js';
import { EngineProxy } from '../support/engine-proxy.js';

const T = { timeout: 60_000 };
const QUICK = { timeout: 10_000 };

async function rejectsWithin(what: string, promise: Promise<unknown>, limitMs: number): Promise<EngineUnavailableError> {
  const began = performance.now();
  let caught: unknown;
  await promise.then(
    () => assert.fail(`${what} succeeded against a silent engine`),
    (err: unknown) => (caught = err),
  );
  const ms = performance.now() - began;
  assert.ok(ms < limitMs, `${what} failed after ${Math.round(ms)} ms, more than ${limitMs}`);
  assert.ok(caught instanceof EngineUnavailableError, `${what}: ${String(caught)}`);
  return caught;
}

describe('a black-holed Docker engine', () => {
  let dir: string;
  let blackHole: EngineProxy;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-bh-'));
    blackHole = new EngineProxy(join(dir, 'engine.sock'));
    blackHole.blackHole = true;
    await blackHole.listen();
  });

  after(async () => {
    await blackHole?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('every runtime call fails within about the engine timeout as engine_unavailable, with a retry hint', T, async () => {
    const runtime = new DockerRuntime({ docker: `unix://${blackHole.path}`, engineTimeoutMs: 300 });
    const listed = await rejectsWithin('list', runtime.list(), 2_000);
    assert.equal(listed.code, 'engine_unavailable');
    assert.equal(listed.retryAfterS, 5);
    assert.match(listed.message, /^listing containers: Docker engine at unix:\/\/.*engine\.sock does not answer \(no answer within 300 ms\)/);
    await rejectsWithin('start', runtime.start('berth-x-0'), 2_000);
    await rejectsWithin('stop', runtime.stop('berth-x-0', { timeoutS: 0 }), 2_000);
    await rejectsWithin('ping', runtime.ping(), 2_000);
  });

  test('under the default 30 s bound a hung engine is found out by a ping within seconds', T, async () => {
    const runtime = new DockerRuntime({ docker: `unix://${blackHole.path}`, engineTimeoutMs: 30_000 });
    const err = await rejectsWithin('list', runtime.list(), 10_000);
    assert.match(err.message, /did not answer a ping within 5000 ms/);
    assert.equal(err.retryAfterS, 5);
  });

  test('an engine socket that is missing is engine_unavailable at once', T, async () => {
    const runtime = new DockerRuntime({ docker: `unix://${join(dir, 'absent.sock')}`, engineTimeoutMs: 300 });
    const err = await rejectsWithin('list', runtime.list(), 1_000);
    assert.match(err.message, /ENOENT/);
  });

  test('the event stream is bounded until it answers, then reopened', T, async () => {
    const errors: Error[] = [];
    const runtime = new DockerRuntime({ docker: `unix://${blackHole.path}`, engineTimeoutMs: 300, onEventStreamError: (err) => errors.push(err) });
    const abort = new AbortController();
    const consumed = (async () => {
      for await (const _ of runtime.events(abort.signal)) void _;
    })();
    const deadline = performance.now() + 3_000;
    while (errors.length === 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    abort.abort();
    await consumed;
    assert.ok(errors.length > 0, 'the silent event stream was reported');
    assert.ok(errors[0] instanceof EngineUnavailableError, String(errors[0]));
  });

  test('a stop call is given its grace period on top of the engine timeout', QUICK, async () => {
    const calls: string[] = [];
    const fake = { modem: { dial: (options: { path: string }, _cb: unknown) => void calls.push(options.path) } } as unknown as Docker;
    const bounded = boundEngineCalls(fake, 50) as unknown as { modem: { dial(o: object, cb: (err: unknown) => void): void } };
    const settled: string[] = [];
    const failedAfter = (options: { path: string; options?: { t: number } }) =>
      new Promise<{ ms: number; boundMs: unknown }>((resolve) => {
        const began = performance.now();
        bounded.modem.dial(options, (err) => {
          settled.push(options.path);
          resolve({ ms: performance.now() - began, boundMs: (err as { timeoutMs?: unknown }).timeoutMs });
        });
      });
    const [plain, stop] = await Promise.all([failedAfter({ path: '/containers/x/json' }), failedAfter({ path: '/containers/x/stop?', options: { t: 0.3 } })]);
    // The bound each call was given, read from its error rather than from how late a busy loop ran the timers.
    assert.equal(plain.boundMs, 50, 'a plain call has the engine timeout alone');
    assert.equal(stop.boundMs, 350, 'a stop call has its grace period on top');
    assert.ok(plain.ms >= 45, `a plain call gave up after ${plain.ms} ms`);
    assert.ok(stop.ms >= 340, `a stop with t=0.3 s gave up after ${stop.ms} ms`);
    assert.deepEqual(settled, ['/containers/x/json', '/containers/x/stop?'], 'the plain call gave up first');
    assert.equal(calls.length, 2);
  });
});
