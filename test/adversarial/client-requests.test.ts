// Adversarial clients against the real gateway (a child `berth serve`), on both
// listeners: malformed, hostile and smuggling requests from one table, then the
// upgrade cases that need a stopped app. After every case the gateway must be
// alive and still serving (issue 9, what must hold 1 to 3).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { violation } from '../support/expect-outcome.js';
import { advAppYaml, GatewayProcess } from '../support/gateway-process.js';
import { rawExchange } from '../support/raw-http.js';
import { clientCases, type CaseContext } from '../support/client-request-cases.js';

const runId = randomBytes(3).toString('hex');
const live = `adv${runId}-live`;
const stopped = `adv${runId}-stopped`;

describe('adversarial clients on both listeners', () => {
  let gw: GatewayProcess;

  before(async () => {
    gw = await GatewayProcess.start({
      apps: {
        [live]: advAppYaml(live, runId, 'scale: {min: 1}\n'),
        // Never woken by a valid request: malformed handshakes must leave it stopped.
        [stopped]: advAppYaml(stopped, runId, 'env: {STARTUP_DELAY_MS: "1000"}\n'),
      },
    });
    // The live app is started by the reconciler; a request waits for it.
    const first = await rawExchange(gw.proxyPort, [`GET /s/${live}/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`], { timeoutMs: 30_000 });
    assert.equal(first.responses[0]?.status, 200, `live app did not come up: ${gw.tail()}`);
  });

  after(async () => {
    await gw?.dispose();
  });

  const context = (listener: 'proxy' | 'admin'): CaseContext => {
    const port = listener === 'proxy' ? gw.proxyPort : gw.adminPort;
    return listener === 'proxy'
      ? { listener, host: `127.0.0.1:${port}`, target: `/s/${live}/echo`, base: `/s/${live}`, auth: '', app: live }
      : { listener, host: `127.0.0.1:${port}`, target: '/v1/apps', base: '/v1', auth: `Authorization: Bearer ${gw.adminToken}\r\n`, app: live };
  };

  for (const c of clientCases) {
    for (const listener of ['proxy', 'admin'] as const) {
      if (c.on !== 'both' && c.on !== listener) continue;
      test(`${listener}: ${c.name}`, async () => {
        await gw.respawnIfDead();
        const ctx = context(listener);
        const sent = c.send(ctx);
        const steps = Array.isArray(sent) ? sent : [sent];
        const port = listener === 'proxy' ? gw.proxyPort : gw.adminPort;
        const outcome = await rawExchange(port, steps, { timeoutMs: c.timeoutMs ?? 3000, responses: c.responses, headRequests: c.headRequests });
        // Liveness first: a dead gateway is the finding that matters most.
        await gw.assertServing(`${listener}: ${c.name}`, `/s/${live}/ping`);
        const expect = typeof c.expect === 'function' ? c.expect(ctx) : c.expect;
        const why = violation(outcome, expect) ?? c.check?.(outcome, ctx);
        assert.equal(why, undefined, why);
      });
    }
  }

  const malformedHandshakes: [string, string][] = [
    ['no Sec-WebSocket-Key', 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n'],
    ['key of the wrong length', 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n'],
    ['no Sec-WebSocket-Version', 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'],
    // Well-formed but unsupported: RFC 6455 §4.4 answers 426 with the supported version; 400 is fine too.
    ['unsupported version 8', 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n'],
  ];
  for (const [what, headers] of malformedHandshakes) {
    test(`proxy: malformed WebSocket handshake (${what}) gets 400 without waking the stopped app`, async () => {
      await gw.respawnIfDead();
      await gw.ensureStopped(stopped);
      const outcome = await rawExchange(gw.proxyPort, [`GET /s/${stopped}/ws HTTP/1.1\r\nHost: 127.0.0.1:${gw.proxyPort}\r\n${headers}\r\n`], { timeoutMs: 4000 });
      await gw.assertServing(`malformed handshake (${what})`, `/s/${live}/ping`);
      const state = await gw.appState(stopped);
      const why = violation(outcome, { statuses: what.includes('version 8') ? [400, 426] : [400] });
      assert.equal(why, undefined, why);
      assert.equal(state, 'stopped', 'a malformed handshake woke the app');
    });
  }

  test('POST handshake with Upgrade: websocket is not tunnelled', async () => {
    await gw.respawnIfDead();
    const outcome = await rawExchange(gw.proxyPort, [`POST /s/${live}/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n`]);
    await gw.assertServing('POST websocket handshake', `/s/${live}/ping`);
    assert.equal(violation(outcome, { statuses: [400, 405, 426] }), undefined, violation(outcome, { statuses: [400, 405, 426] }));
  });
});
