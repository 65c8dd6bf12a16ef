import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { buildConfig } from '../../src/config/load-config.js';
import { EngineUnavailableError, httpStatusOf } from '../../src/errors.js';
import { classifyFailure } from '../../src/proxy/failure.js';
import { ClientBodyTimeoutError } from '../../src/proxy/forward-http.js';
import { exchangeBounds, DEFAULT_PROXY_TIMEOUTS } from '../../src/proxy/proxy-timeouts.js';
import { throttledCounter } from '../../src/proxy/connection-cap.js';
import { connectionCapWarning, defaultAdminConnectionCap, defaultConnectionCap, lowFdLimitWarning, parseFdLimits } from '../../src/net/fd-limit.js';
import { mapDockerError } from '../../src/runtime/docker/errors.js';
import { engineTimeoutError } from '../../src/runtime/docker/engine-timeout.js';
import { parseSpecObject } from '../../src/spec/index.js';
import { CrashLoopError } from '../../src/activator/start-errors.js';

const coded = (code: string) => Object.assign(new Error(code), { code });

describe('classifyFailure', () => {
  const ctx = { app: 'hello', connectTimeoutMs: 10_000, responseTimeoutMs: 60_000 };
  const engineDown = mapDockerError(engineTimeoutError(30_000), 'starting container berth-hello-0', 'unix:///var/run/docker.sock');
  const cases: Array<[string, unknown, { status: number; code: string; retryAfterS?: number; reason?: RegExp }]> = [
    ['EMFILE on connect is the gateway overloaded, not the app', coded('EMFILE'), { status: 503, code: 'overloaded', retryAfterS: 1, reason: /out of file descriptors \(EMFILE\)/ }],
    ['ENFILE too', coded('ENFILE'), { status: 503, code: 'overloaded', retryAfterS: 1 }],
    ['an engine timeout is 503 engine_unavailable with Retry-After', engineDown, { status: 503, code: 'engine_unavailable', retryAfterS: 5, reason: /starting container berth-hello-0: .*does not answer \(no answer within 30000 ms\)/ }],
    ['an engine that refuses', mapDockerError(coded('ECONNREFUSED'), 'listing', 'unix:///x.sock'), { status: 503, code: 'engine_unavailable', retryAfterS: 5 }],
    ['an engine socket that is missing', mapDockerError(coded('ENOENT'), 'listing', 'unix:///x.sock'), { status: 503, code: 'engine_unavailable', retryAfterS: 5 }],
    ['EMFILE towards the engine is not the app failing either', mapDockerError(coded('EMFILE'), 'listing', 'unix:///x.sock'), { status: 503, code: 'engine_unavailable', retryAfterS: 1, reason: /out of file descriptors \(EMFILE\)/ }],
    ['no response headers in time names the app and the bound', coded('UPSTREAM_HEADERS_TIMEOUT'), { status: 504, code: 'upstream_timeout', reason: /^app hello did not answer within 60 s$/ }],
    ['no connection in time names the app and the bound', coded('UPSTREAM_CONNECT_TIMEOUT'), { status: 504, code: 'upstream_timeout', reason: /^app hello did not accept a connection within 10 s$/ }],
    ['a refused upstream is 502', coded('ECONNREFUSED'), { status: 502, code: 'upstream_unavailable', reason: /app hello refused/ }],
    ['a reset upstream is 502', coded('ECONNRESET'), { status: 502, code: 'upstream_unavailable', reason: /app hello closed/ }],
    ['a silent request body is 408', new ClientBodyTimeoutError(60_000), { status: 408, code: 'client_body_timeout', reason: /nothing for 60 s/ }],
    ['a crash loop keeps its Retry-After', new CrashLoopError('hello', 'boom', 8), { status: 503, code: 'overloaded', retryAfterS: 8 }],
  ];
  for (const [name, err, want] of cases) {
    it(name, () => {
      const got = classifyFailure(err, false, ctx);
      assert.equal(got.status, want.status);
      assert.equal(got.code, want.code);
      assert.equal(got.retryAfterS, want.retryAfterS);
      if (want.reason) assert.match(got.reason, want.reason);
    });
  }
  it('a client that left gets no answer whatever the error', () => {
    assert.equal(classifyFailure(coded('EMFILE'), true).status, 0);
  });
  it('without a context the app is "the app"', () => {
    assert.match(classifyFailure(coded('UPSTREAM_HEADERS_TIMEOUT'), false).reason, /^the app did not answer in time$/);
  });
  it('engine_unavailable is catalogued as 503', () => {
    assert.equal(httpStatusOf(new EngineUnavailableError('x', 5)), 503);
  });
});

describe('config timeouts and limits', () => {
  it('defaults in the spirit of nginx, parsed to milliseconds', async () => {
    const config = await buildConfig({}, tmpdir());
    assert.deepEqual(config.timeouts, { clientHeaderMs: 60_000, clientBodyIdleMs: 60_000, clientSendMs: 60_000, upstreamConnectMs: 10_000, upstreamResponseMs: 60_000, engineMs: 30_000 });
    assert.equal(config.limits.connections, undefined);
    assert.equal(config.limits.inputBytes, 65_536);
  });
  it('takes durations and seconds, field by field', async () => {
    const config = await buildConfig({ timeouts: { clientBodyIdle: '250ms', engine: 5, upstreamResponse: '2m' }, limits: { connections: 500 } }, tmpdir());
    assert.equal(config.timeouts.clientBodyIdleMs, 250);
    assert.equal(config.timeouts.engineMs, 5_000);
    assert.equal(config.timeouts.upstreamResponseMs, 120_000);
    assert.equal(config.timeouts.clientSendMs, 60_000);
    assert.equal(config.limits.connections, 500);
  });
  it('refuses bad values, naming the field', async () => {
    await assert.rejects(buildConfig({ timeouts: { clientSend: 'soon' } }, tmpdir()), /timeouts\.clientSend: "soon" is not a duration/);
    await assert.rejects(buildConfig({ timeouts: { engine: 0 } }, tmpdir()), /timeouts\.engine: must be longer than 0/);
    await assert.rejects(buildConfig({ timeouts: { idle: '5s' } }, tmpdir()), /timeouts/);
    await assert.rejects(buildConfig({ limits: { connections: 0 } }, tmpdir()), /limits\.connections/);
  });
});

describe('per-app timeouts', () => {
  const base = { apiVersion: 'berth/v1', name: 'hello', image: 'berth-test/app:latest', port: 8080 };
  it('are absent unless set, and parsed to milliseconds', () => {
    assert.equal(parseSpecObject(base).timeouts, undefined);
    assert.deepEqual(parseSpecObject({ ...base, timeouts: { response: '5m' } }).timeouts, { responseMs: 300_000 });
    assert.deepEqual(parseSpecObject({ ...base, timeouts: { connect: '2s', response: 90 } }).timeouts, { connectMs: 2_000, responseMs: 90_000 });
  });
  it('refuse what is not a duration', () => {
    assert.throws(() => parseSpecObject({ ...base, timeouts: { response: 'forever' } }), /timeouts\.response/);
    assert.throws(() => parseSpecObject({ ...base, timeouts: { read: '5s' } }), /timeouts/);
  });
  it("win over the gateway's upstream bounds, one by one", () => {
    assert.deepEqual(exchangeBounds(DEFAULT_PROXY_TIMEOUTS, { responseMs: 5 }), { connectTimeoutMs: 10_000, responseTimeoutMs: 5, bodyIdleMs: 60_000, sendMs: 60_000 });
    assert.deepEqual(exchangeBounds(DEFAULT_PROXY_TIMEOUTS, undefined).responseTimeoutMs, 60_000);
  });
});

describe('file descriptor limits', () => {
  const limits = (soft: string, hard: string) =>
    `Limit                     Soft Limit           Hard Limit           Units     \nMax processes             63471                63471                processes \nMax open files            ${soft}                 ${hard}                files     \n`;
  it('reads the soft and hard open-file limits', () => {
    assert.deepEqual(parseFdLimits(limits('1024', '1048576')), { soft: 1024, hard: 1_048_576 });
    assert.deepEqual(parseFdLimits(limits('unlimited', 'unlimited')), { soft: Infinity, hard: Infinity });
    assert.equal(parseFdLimits('Max processes 1 1 processes\n'), undefined);
  });
  const caps: Array<[number | undefined, number]> = [
    [undefined, 10_000],
    [Infinity, 10_000],
    [1_048_576, 10_000],
    [20_000, 9_500],
    [4_096, 1_548],
    [1_024, 384],
    [256, 96],
    [10, 1],
  ];
  for (const [soft, cap] of caps) it(`a soft limit of ${soft} caps connections at ${cap}`, () => assert.equal(defaultConnectionCap(soft), cap));
  it('shares the descriptors between the plain and the TLS listener, each capped apart', () => {
    // Before, each listener got the whole share: a flood on both took 4 descriptors per connection the limit allowed for 2.
    assert.equal(defaultConnectionCap(1_024, 2), 192);
    assert.equal(defaultConnectionCap(256, 2), 48);
    assert.equal(defaultConnectionCap(undefined, 2), 10_000);
    // Both listeners full (a client and an upstream descriptor each) and the admin listener full
    // still leave descriptors for the process itself, the store and the engine's sockets.
    for (const soft of [128, 256, 1_024, 4_096, 20_000]) {
      assert.ok(2 * 2 * defaultConnectionCap(soft, 2) + defaultAdminConnectionCap(soft) <= soft - 48, `soft ${soft}`);
    }
  });
  const adminCaps: Array<[number | undefined, number]> = [
    [undefined, 512],
    [Infinity, 512],
    [1_048_576, 512],
    [8_192, 512],
    [1_024, 64],
    [256, 16],
    [10, 8],
  ];
  // Before, the admin listener took 512 whatever the limit: under 1024 (a common default) an
  // unauthenticated flood there ran the gateway out of descriptors, and the proxy stopped accepting.
  for (const [soft, cap] of adminCaps) it(`a soft limit of ${soft} caps admin connections at ${cap}`, () => assert.equal(defaultAdminConnectionCap(soft), cap));
  it('warns at start of a limits.connections the open-file limit cannot hold', () => {
    // Before, nothing was said: at the limit Node emits no accept error, clients just waited unanswered.
    assert.match(connectionCapWarning(10_000, 1_024, 1) ?? '', /limits\.connections 10000 needs about 20000 open files.*limit 1024.*default here is 384/);
    assert.match(connectionCapWarning(400, 1_024, 2) ?? '', /on each of the plain and the TLS listener needs about 1600/);
    assert.equal(connectionCapWarning(400, 1_024, 1), undefined);
    assert.equal(connectionCapWarning(10_000, undefined, 1), undefined);
    assert.equal(connectionCapWarning(10_000, Infinity, 2), undefined);
    // The defaults always fit.
    for (const soft of [128, 1_024, 20_000]) for (const n of [1, 2]) assert.equal(connectionCapWarning(defaultConnectionCap(soft, n), soft, n), undefined);
  });
  it('warns at start when the limit stays under 4096, naming the cap it implies and how to raise it', () => {
    assert.equal(lowFdLimitWarning({ soft: 4_096, hard: 4_096 }), undefined);
    assert.equal(lowFdLimitWarning({ soft: Infinity, hard: Infinity }), undefined);
    assert.equal(lowFdLimitWarning(undefined), undefined);
    assert.match(lowFdLimitWarning({ soft: 1_024, hard: 1_024 }) ?? '', /open-file limit is 1024 \(hard 1024\).*capped at 384.*LimitNOFILE/);
  });
});

describe('throttledCounter', () => {
  it('logs at once, then at most once per interval with the count in between', async () => {
    const logged: number[] = [];
    const hit = throttledCounter((n) => logged.push(n), 100);
    for (let i = 0; i < 50; i++) hit();
    assert.deepEqual(logged, [1]);
    await new Promise((r) => setTimeout(r, 150));
    assert.deepEqual(logged, [1, 49]);
    hit();
    assert.deepEqual(logged, [1, 49], 'still inside the window after a flush');
  });
});
