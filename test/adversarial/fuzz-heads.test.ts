// Property-based fuzzing of request heads (fast-check) against the real gateway
// (a child `berth serve`), mostly on the proxy listener, some on the admin one:
// random method tokens, targets with dots, slashes, percent escapes and unicode,
// random header names and values with control characters, random Host values.
// Bounded in runs and in time; each exchange is bounded too. Asserts liveness and
// a well-formed answer (issue 9, what must hold 1).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { advAppYaml, GatewayProcess } from '../support/gateway-process.js';
import { rawExchange } from '../support/raw-http.js';

const runId = randomBytes(3).toString('hex');
const live = `adv${runId}-flive`;
const NUM_RUNS = Number(process.env.BERTH_FUZZ_RUNS ?? 300);
const TIME_LIMIT_MS = 60_000;
const CASE_TIMEOUT_MS = 5000;

const TCHAR = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".split('');
const CONTROL = ['\0', '\t', '\r', '\n', '\x7f', '\x01', '\x1b', ' ', ':', ',', ';', '"', '\\'];
const anyAscii = fc.string({ unit: fc.integer({ min: 0, max: 127 }).map((c) => String.fromCharCode(c)), maxLength: 12 });
const token = fc.string({ unit: fc.constantFrom(...TCHAR), minLength: 1, maxLength: 10 });
const hex = fc.constantFrom(...'0123456789abcdefABCDEFxz%'.split(''));

const method = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT') },
  { weight: 2, arbitrary: token },
  { weight: 1, arbitrary: anyAscii },
);

const segment = fc.oneof(
  fc.constantFrom('..', '.', '', '%2e%2e', '%2E.', '%2f', '%5c', '%00', '%', '%zz', '%ff', '%c0%af', '~', 'echo', 'ping', 'ws', '_berth', '\\..'),
  fc.tuple(hex, hex).map(([a, b]) => `%${a}${b}`),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  token,
);
const target = fc
  .tuple(
    fc.constantFrom(`/s/${live}/`, `/s/${live}/`, `/s/${live}`, '/', '//', '//', '/_berth/', '', '*', `http://127.0.0.1/s/${live}/`, 'http://evil.example/', '/v1/', '/s/'),
    fc.array(segment, { maxLength: 6 }),
    fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
    fc.option(fc.string({ maxLength: 4 }), { nil: undefined }),
  )
  .map(([prefix, segments, query, fragment]) => `${prefix}${segments.join('/')}${query !== undefined ? `?${query}` : ''}${fragment !== undefined ? `#${fragment}` : ''}`);

const headerName = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('Host', 'Content-Length', 'Transfer-Encoding', 'Connection', 'Upgrade', 'Expect', 'X-Forwarded-For', 'Forwarded', 'X-Real-IP', 'Cookie', 'Authorization', 'Sec-WebSocket-Key', 'X_Forwarded_For', 'TE', 'Trailer', 'Content-Type') },
  { weight: 3, arbitrary: token },
  { weight: 1, arbitrary: anyAscii },
);
const headerValue = fc.oneof(
  fc.constantFrom('0', '5', '-1', 'chunked', 'close', 'keep-alive, Upgrade', 'websocket', 'h2c', '100-continue', 'for=6.6.6.6', '127.0.0.1', 'Bearer x'),
  fc.string({ unit: fc.oneof(fc.constantFrom(...CONTROL), fc.constantFrom(...TCHAR)), maxLength: 16 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
);
const hostValue = fc.oneof(
  fc.constant<string | undefined>('127.0.0.1'),
  fc.constant<string | undefined>(undefined),
  fc.constantFrom('', 'localhost.', 'LOCALHOST', '[::1]', ':80', 'a b', 'x@y', '127.0.0.1:99999', 'évil.example', '..', '*'),
  fc.string({ unit: fc.oneof(fc.constantFrom(...CONTROL), fc.constantFrom(...TCHAR)), maxLength: 12 }),
);

const head = fc.record({
  listener: fc.constantFrom<'proxy' | 'admin'>('proxy', 'proxy', 'admin'),
  method,
  target,
  version: fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'http/1.1', ''),
  host: hostValue,
  secondHost: fc.option(hostValue, { freq: 8 }),
  headers: fc.array(fc.tuple(headerName, headerValue), { maxLength: 8 }),
});

/** Whether the bytes at least have the shape of an HTTP/1.x request line (then an answer is owed, not a bare close). */
function looksLikeHttp(bytes: string): boolean {
  return /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+ [\x21-\x7e\x80-\xff]+ HTTP\/1\.[01]\r\n/.test(bytes);
}

describe('fuzzed request heads', () => {
  let gw: GatewayProcess;

  before(async () => {
    gw = await GatewayProcess.start({ apps: { [live]: advAppYaml(live, runId, 'scale: {min: 1}\n') } });
    const first = await rawExchange(gw.proxyPort, [`GET /s/${live}/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`], { timeoutMs: 30_000 });
    assert.equal(first.responses[0]?.status, 200, `live app did not come up: ${gw.tail()}`);
  });

  after(async () => {
    await gw?.dispose();
  });

  test(`${NUM_RUNS} random heads: the gateway lives and answers each one well-formed (or closes on non-HTTP)`, { timeout: TIME_LIMIT_MS + 60_000 }, async () => {
    let runs = 0;
    // A crash's exit event can arrive while the next head is sent: name the last few.
    const recent: string[] = [];
    const details = await fc.check(
      fc.asyncProperty(head, async (h) => {
        runs++;
        const lines = [`${h.method} ${h.target}${h.version ? ` ${h.version}` : ''}`];
        if (h.host !== undefined) lines.push(`Host: ${h.host.replace('127.0.0.1', `127.0.0.1:${h.listener === 'proxy' ? gw.proxyPort : gw.adminPort}`)}`);
        if (h.secondHost !== null && h.secondHost !== undefined) lines.push(`Host: ${h.secondHost}`);
        if (h.listener === 'admin') lines.push(`Authorization: Bearer ${gw.adminToken}`);
        for (const [name, value] of h.headers) lines.push(`${name}: ${value}`);
        const text = lines.join('\r\n') + '\r\n\r\n';
        const bytes = Buffer.from(text, 'utf8');
        const port = h.listener === 'proxy' ? gw.proxyPort : gw.adminPort;
        recent.push(`${h.listener}: ${JSON.stringify(text)}`);
        if (recent.length > 3) recent.shift();
        const o = await rawExchange(port, [bytes], { timeoutMs: CASE_TIMEOUT_MS, responses: 1, headRequests: h.method === 'HEAD' });
        // A close without an answer may be the gateway dying: give its exit event a moment.
        if (o.closed && o.bytes.length === 0) await gw.settle(300);
        gw.assertAlive(`one of the last heads sent:\n${recent.join('\n')}\n`);
        // Waiting for a body the head announced is no hang (its bound is the body timeout, longer than a case).
        const announcesBody = h.headers.some(([name]) => /^(content-length|transfer-encoding|expect)$/i.test(name.trim()));
        assert.ok(!o.timedOut || announcesBody, `no answer and no close within ${CASE_TIMEOUT_MS} ms for ${JSON.stringify(text)}`);
        if (o.timedOut) {
          // Still waiting for the announced body: nothing to judge yet.
        } else if (o.bytes.length > 0) {
          assert.match(o.bytes.subarray(0, 13).toString('latin1'), /^HTTP\/1\.1 \d{3}[ \r]/, `not a well-formed status line for ${JSON.stringify(text)}: ${JSON.stringify(o.bytes.subarray(0, 40).toString('latin1'))}`);
        } else {
          // Node drops a CONNECT nobody listens for; a close is a clean refusal of it.
          assert.ok(h.method === 'CONNECT' || !looksLikeHttp(bytes.toString('latin1')), `closed without an answer to an HTTP-shaped head ${JSON.stringify(text)}`);
        }
        if (runs % 50 === 0) await gw.assertServing(`${runs} fuzzed heads`, `/s/${live}/ping`);
      }),
      { numRuns: NUM_RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false, endOnFailure: true, seed: process.env.BERTH_FUZZ_SEED ? Number(process.env.BERTH_FUZZ_SEED) : undefined },
    );
    if (details.failed) {
      const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
      assert.fail(`failed after ${details.numRuns} runs (seed ${details.seed}, path ${details.counterexamplePath}): ${cause}`);
    }
    await gw.assertServing(`all ${runs} fuzzed heads`, `/s/${live}/ping`);
    assert.ok(runs >= Math.min(NUM_RUNS, 50), `only ${runs} runs fitted in the time limit`);
  });
});
