// What an anonymous client of the proxy listener learns of a failure: the full reason
// (the engine's endpoint and words, host paths, an instance's address) stays on the
// admin API; the error page, problem+json and /_berth/status say only what helps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthError, EngineUnavailableError, RuntimeError, StartFailedError } from '../../src/errors.js';
import { CrashLoopError } from '../../src/activator/start-errors.js';
import { errorOf, wireError } from '../../src/cluster/wire.js';
import { classifyFailure } from '../../src/proxy/failure.js';
import { failureAnswer, rawFailureAnswer } from '../../src/proxy/error-page.js';
import { publicReason, type PublicReasonInput } from '../../src/proxy/public-reason.js';
import { FakeRuntime } from '../support/fake-runtime.js';
import { fakeActivator, fakeSpec } from '../support/fake-activator.js';

const ENGINE = 'Docker engine at tcp://10.1.2.3:2376 said: invalid mount config: /srv/berth-secrets/db is not a directory';

test('publicReason: a table of what a client is told', () => {
  const cases: Array<[PublicReasonInput, string]> = [
    [{ code: 'start_failed', status: 502, reason: `app web failed to start: ${ENGINE}`, app: 'web' }, 'app web failed to start'],
    [{ code: 'start_failed', status: 502, reason: ENGINE, app: 'web', retryAfterS: 4 }, 'app web failed to start; try again in 4 s'],
    [{ code: 'upstream_timeout', status: 504, reason: ENGINE }, 'the app did not answer in time'],
    [{ code: 'upstream_unavailable', status: 502, reason: 'connect EHOSTUNREACH 172.17.0.3:8080', app: 'web' }, 'app web is unavailable'],
    [{ code: 'engine_unavailable', status: 503, reason: ENGINE, app: 'web', retryAfterS: 5 }, 'the gateway cannot start or reach app web right now; try again in 5 s'],
    [{ code: 'runtime_error', status: 502, reason: ENGINE, app: 'web' }, 'the gateway cannot start or reach app web right now'],
    [{ code: 'store_unavailable', status: 503, reason: 'postgres://berth:pw@db.internal/berth refused', app: 'web' }, 'the gateway failed to serve app web'],
    [{ code: 'overloaded', status: 503, reason: 'the gateway is shutting down', publicMessage: 'app web is crash-looping; next try in 3s' }, 'app web is crash-looping; next try in 3s'],
    // A 4xx is about the client's own request: its text is the client's.
    [{ code: 'no_route', status: 404, reason: 'no app is routed at example.test/x' }, 'no app is routed at example.test/x'],
    [{ code: 'bad_request', status: 400, reason: 'the request target is not a path' }, 'the request target is not a path'],
  ];
  for (const [input, expected] of cases) assert.equal(publicReason(input), expected, input.reason);
});

test('a failed start: the page and the problem name the failure, not the engine or the host paths', () => {
  const errors: BerthError[] = [
    // A start that failed on the engine (the controller wraps the RuntimeError so).
    new StartFailedError('web', ENGINE, false, null),
    new StartFailedError('web', ENGINE, true, null),
    new CrashLoopError('web', `3 failures in a row, the last: ${ENGINE}`, 7),
    new EngineUnavailableError(ENGINE, 5),
    new RuntimeError(ENGINE),
  ];
  for (const err of errors) {
    const failure = classifyFailure(err, false, { app: 'web' });
    assert.equal(failure.reason.includes('tcp://10.1.2.3'), true, 'the full reason is kept for the logs and history');
    for (const html of [true, false]) {
      const { body } = failureAnswer(failure, 'web', html);
      for (const secret of ['tcp://', '10.1.2.3', '/srv/berth-secrets', 'Docker engine']) assert.equal(body.includes(secret), false, `${err.name} (${html ? 'html' : 'json'}) shows ${secret}: ${body}`);
      assert.match(body, /app web/);
    }
    const raw = rawFailureAnswer(failure, 'web', false, false, 'r1', 'now', false);
    assert.equal(raw.includes('10.1.2.3'), false);
  }
  assert.match(failureAnswer(classifyFailure(new CrashLoopError('web', ENGINE, 7), false), 'web', false).body, /crash-looping; next try in 7s/);
  // What the app itself did is its clients' to know.
  assert.match(failureAnswer(classifyFailure(new StartFailedError('web', 'the container exited with code 3', false), false), 'web', false).body, /app web failed to start: the container exited with code 3/);
  assert.match(failureAnswer(classifyFailure(new CrashLoopError('web', ENGINE, 7, 'the container exited with code 3'), false), 'web', false).body, /crash-looping \(the container exited with code 3\); next try in 7s/);
});

test('an upstream failure the proxy describes itself keeps its words; an unknown one names no address', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 172.17.0.3:8080'), { code: 'ECONNREFUSED' });
  assert.match(failureAnswer(classifyFailure(refused, false, { app: 'web' }), 'web', false).body, /app web refused the connection/);
  const unreachable = Object.assign(new Error('connect EHOSTUNREACH 172.17.0.3:8080'), { code: 'EHOSTUNREACH' });
  const failure = classifyFailure(unreachable, false, { app: 'web' });
  assert.equal(failure.status, 502);
  assert.match(failure.reason, /172\.17\.0\.3/);
  assert.equal(failureAnswer(failure, 'web', true).body.includes('172.17.0.3'), false);
});

test('/_berth/status: a failed start says the app failed, not what the engine said', async () => {
  const rt = new FakeRuntime();
  rt.behave('web', { startError: () => new Error(ENGINE) });
  const a = fakeActivator(rt);
  try {
    await a.reconcile([fakeSpec('web')]);
    await assert.rejects(a.acquire('web'), /tcp:\/\/10\.1\.2\.3/);
    assert.match(a.status('web')?.lastError ?? '', /tcp:\/\/10\.1\.2\.3/, 'the admin API keeps the full text');
    const status = a.publicStatus('web');
    assert.equal(status?.ready, false);
    assert.equal(status?.error, 'app web failed to start');
    assert.equal(status?.error?.includes('10.1.2.3'), false);
    assert.equal(status?.error?.includes('/srv/berth-secrets'), false);
    // A browser's reload is told the same, and a request while it crash-loops too.
    const admission = await a.admit('web', { method: 'GET', headers: { accept: 'text/html' } } as never);
    assert.equal(admission.kind, 'fail');
    if (admission.kind === 'fail') assert.equal(failureAnswer(classifyFailure(admission.error, false, { app: 'web' }), 'web', true).body.includes('10.1.2.3'), false);
  } finally {
    a.close();
    await rt.close();
  }
});

test('with workers: N the public form crosses from the control to the worker with the error', () => {
  const err = errorOf(wireError(new StartFailedError('web', 'the container exited with code 3', false)));
  assert.match(failureAnswer(classifyFailure(err, false, { app: 'web' }), 'web', false).body, /app web failed to start: the container exited with code 3/);
  const engine = errorOf(wireError(new StartFailedError('web', ENGINE, false, null)));
  assert.equal(failureAnswer(classifyFailure(engine, false, { app: 'web' }), 'web', false).body.includes('10.1.2.3'), false);
});
