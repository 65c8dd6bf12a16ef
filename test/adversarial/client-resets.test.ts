// Clients that go away at every point of an exchange, against the real gateway
// (a child `berth serve`): a sample request cut off (half-close) or reset (RST)
// after every byte, on both listeners, then resets at each stage of a proxied
// exchange, including while the request is held for a cold start and after a 101.
// After every case the gateway must be alive and still serving.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { violation } from '../support/expect-outcome.js';
import { advAppYaml, GatewayProcess } from '../support/gateway-process.js';
import { rawExchange, sleep, wsHandshake, wsTextFrame, type Step } from '../support/raw-http.js';

const runId = randomBytes(3).toString('hex');
const live = `adv${runId}-rlive`;
/**
 * Slow to start, so a request to it is held for a while: one app for each held-for-a-cold-start
 * case, each cold at its first request, so no case waits for the one before to be stopped again.
 */
const colds = ['get', 'get-half', 'post', 'ws', 'ws-half'].map((c) => `adv${runId}-rcold-${c}`);
const livePing = `/s/${live}/ping`;

describe('clients that cut off or reset', () => {
  let gw: GatewayProcess;

  before(async () => {
    gw = await GatewayProcess.start({
      apps: {
        [live]: advAppYaml(live, runId, 'scale: {min: 1}\n'),
        ...Object.fromEntries(colds.map((cold) => [cold, advAppYaml(cold, runId, 'env: {STARTUP_DELAY_MS: "1000"}\n')])),
      },
    });
    const first = await rawExchange(gw.proxyPort, [`GET ${livePing} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`], { timeoutMs: 30_000 });
    assert.equal(first.responses[0]?.status, 200, `live app did not come up: ${gw.tail()}`);
  });

  after(async () => {
    await gw?.dispose();
  });

  const samples = () => ({
    proxy: { port: gw.proxyPort, bytes: `POST /s/${live}/upload HTTP/1.1\r\nHost: 127.0.0.1:${gw.proxyPort}\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\n0123456789` },
    admin: { port: gw.adminPort, bytes: `POST /v1/apps HTTP/1.1\r\nHost: 127.0.0.1:${gw.adminPort}\r\nAuthorization: Bearer ${gw.adminToken}\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{"a":1}` },
  });

  for (const listener of ['proxy', 'admin'] as const) {
    for (const mode of ['half-close', 'reset'] as const) {
      test(`${listener}: sample request ${mode === 'reset' ? 'reset' : 'cut off (half-close)'} after every byte`, async () => {
        await gw.respawnIfDead();
        const { port, bytes } = samples()[listener];
        const problems: string[] = [];
        const positions = Array.from({ length: bytes.length - 1 }, (_, i) => i + 1);
        // In small batches: a half-closed request with its head complete may wait out a bound.
        for (let i = 0; i < positions.length; i += 8) {
          const batch = positions.slice(i, i + 8);
          const outcomes = await Promise.all(
            batch.map((at) => {
              const steps: Step[] = mode === 'reset' ? [bytes.slice(0, at), { pauseMs: 15 }, { reset: true }] : [bytes.slice(0, at), { end: true }];
              return rawExchange(port, steps, { timeoutMs: 3000, responses: 0 }).then((o) => ({ at, o }));
            }),
          );
          for (const { at, o } of outcomes) {
            if (mode === 'half-close') {
              const why = violation(o, { statuses: ['4xx', '5xx'], close: 'allowed' });
              if (why) problems.push(`cut after byte ${at} (${JSON.stringify(bytes.slice(Math.max(0, at - 12), at))}): ${why}`);
            }
          }
          if (!gw.alive) break;
        }
        await gw.assertServing(`${listener} ${mode} at every byte`, livePing);
        assert.deepEqual(problems, [], problems.slice(0, 8).join('\n'));
      });
    }
  }

  interface StageCase {
    name: string;
    /** The cold app this case's request is held for (stopped first, if it is not). */
    cold?: string;
    steps: () => Step[];
    /** What the client must have seen before it went away (undefined: no check). */
    sawBefore?: (bytes: string) => string | undefined;
  }

  const stages: StageCase[] = [
    { name: 'proxy: reset after the head, while the app works (slow)', steps: () => [`GET /s/${live}/slow?ms=500 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, { pauseMs: 100 }, { reset: true }] },
    { name: 'proxy: reset mid-body of a 1 MiB upload', steps: () => [`POST /s/${live}/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1048576\r\n\r\n`, Buffer.alloc(64 * 1024, 1), { pauseMs: 100 }, { reset: true }] },
    { name: 'proxy: half-close mid-body of a 1 MiB upload', steps: () => [`POST /s/${live}/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1048576\r\n\r\n`, Buffer.alloc(64 * 1024, 1), { end: true }, { pauseMs: 300 }] },
    {
      name: 'proxy: reset after the response head arrived (streaming)',
      steps: () => [`GET /s/${live}/stream?chunks=20&ms=50 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, { waitForHead: true, timeoutMs: 5000 }, { reset: true }],
      sawBefore: (b) => (b.startsWith('HTTP/1.1 200') ? undefined : `no response head before the reset: ${JSON.stringify(b.slice(0, 40))}`),
    },
    {
      name: 'proxy: reset after the first of two pipelined responses began',
      steps: () => [`GET /s/${live}/stream?chunks=10&ms=50 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /s/${live}/slow?ms=300 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, { waitForHead: true, timeoutMs: 5000 }, { reset: true }],
    },
    { name: 'proxy: reset while an HTTP request is held for a cold start', cold: colds[0], steps: () => [`GET /s/${colds[0]}/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, { pauseMs: 200 }, { reset: true }] },
    { name: 'proxy: half-close while an HTTP request is held for a cold start', cold: colds[1], steps: () => [`GET /s/${colds[1]}/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, { pauseMs: 200 }, { end: true }, { pauseMs: 200 }] },
    { name: 'proxy: reset while a POST with its body is held for a cold start', cold: colds[2], steps: () => [`POST /s/${colds[2]}/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\n01234`, { pauseMs: 200 }, { reset: true }] },
    { name: 'proxy: reset while a WebSocket handshake is held for a cold start (crash 1)', cold: colds[3], steps: () => [wsHandshake(`/s/${colds[3]}/ws`, '127.0.0.1'), { pauseMs: 200 }, { reset: true }] },
    { name: 'proxy: half-close while a WebSocket handshake is held for a cold start', cold: colds[4], steps: () => [wsHandshake(`/s/${colds[4]}/ws`, '127.0.0.1'), { pauseMs: 200 }, { end: true }, { pauseMs: 200 }] },
    { name: 'proxy: reset right after sending a WebSocket handshake', steps: () => [wsHandshake(`/s/${live}/ws`, '127.0.0.1'), { reset: true }] },
    {
      name: 'proxy: reset after a 101, mid-frame',
      steps: () => [wsHandshake(`/s/${live}/ws`, '127.0.0.1'), { waitForHead: true, timeoutMs: 5000 }, wsTextFrame('hello').subarray(0, 4), { pauseMs: 50 }, { reset: true }],
      sawBefore: (b) => (b.startsWith('HTTP/1.1 101') ? undefined : `no 101 before the reset: ${JSON.stringify(b.slice(0, 40))}`),
    },
    { name: 'proxy: after a 101, an invalid frame then half-close', steps: () => [wsHandshake(`/s/${live}/ws`, '127.0.0.1'), { waitForHead: true, timeoutMs: 5000 }, Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]), { end: true }, { pauseMs: 200 }] },
    { name: 'admin: reset mid-body of a large POST', steps: () => [`POST /v1/apps HTTP/1.1\r\nHost: 127.0.0.1:${gw.adminPort}\r\nAuthorization: Bearer ${gw.adminToken}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"a":`, { pauseMs: 100 }, { reset: true }] },
    { name: 'admin: reset while following the event stream', steps: () => [`GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1:${gw.adminPort}\r\nAuthorization: Bearer ${gw.adminToken}\r\n\r\n`, { waitForHead: true, timeoutMs: 3000 }, { reset: true }] },
    { name: 'admin: reset while following the logs of an app', steps: () => [`GET /v1/apps/${live}/logs?follow=true HTTP/1.1\r\nHost: 127.0.0.1:${gw.adminPort}\r\nAuthorization: Bearer ${gw.adminToken}\r\n\r\n`, { waitForHead: true, timeoutMs: 3000 }, { reset: true }] },
  ];

  for (const stage of stages) {
    test(stage.name, async () => {
      await gw.respawnIfDead();
      const cold = stage.cold;
      if (cold) await gw.ensureStopped(cold);
      const port = stage.name.startsWith('admin') ? gw.adminPort : gw.proxyPort;
      const outcome = await rawExchange(port, stage.steps(), { timeoutMs: 3000, responses: 0 });
      await sleep(100);
      await gw.assertServing(stage.name, livePing);
      const why = stage.sawBefore?.(outcome.bytes.toString('latin1'));
      assert.equal(why, undefined, why);
      if (cold) {
        // The start the abandoned request began must still succeed for the next client.
        const next = await rawExchange(gw.proxyPort, [`GET /s/${cold}/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`], { timeoutMs: 15_000 });
        gw.assertAlive(`${stage.name}, then a request to the cold app`);
        assert.equal(next.responses[0]?.status, 200, `the cold app was not served after the abandoned request: ${next.responses[0]?.status}`);
      }
    });
  }
});
