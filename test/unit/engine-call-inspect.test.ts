import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { inspect } from 'node:util';
import type Docker from 'dockerode';
import { engineAgent } from '../../src/runtime/docker/engine-agent.js';
import { boundEngineCalls } from '../../src/runtime/docker/engine-timeout.js';

// docker-modem formats every call's request options for its debug log, on or off:
// util.inspect(options, { showHidden: true, depth: null }). Those options hold the pool
// and the call's abort signal; walked whole, they cost milliseconds per Engine API call.
const AS_MODEM_DOES = { showHidden: true, depth: null } as const;

test('the engine pool, with a kept-alive socket in it, is inspected as a short tag', async () => {
  const server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const agent = engineAgent(false);
  try {
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
    // The socket is back in the pool (kept alive) when the answer ended; wait for it.
    const deadline = Date.now() + 10_000;
    while (Object.keys(agent.freeSockets).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(Object.keys(agent.freeSockets).length, 1);
    assert.equal(inspect({ path: '/_ping', agent }, AS_MODEM_DOES), "{ path: '/_ping', agent: [engine agent] }");
  } finally {
    agent.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('the abort signal a bounded engine call hands the modem is inspected as a short tag, with or without a caller signal', async () => {
  const seen: Array<{ abortSignal?: AbortSignal }> = [];
  const modem = {
    dial(options: { abortSignal?: AbortSignal }, callback: (err: unknown, data?: unknown) => void) {
      seen.push(options);
      setImmediate(() => callback(null, 'ok'));
    },
  };
  const docker = boundEngineCalls({ modem } as unknown as Docker, 30_000);
  const dial = (docker.modem as unknown as typeof modem).dial;
  const caller = new AbortController();
  for (const options of [{ path: '/_ping', method: 'GET' }, { path: '/_ping', method: 'GET', abortSignal: caller.signal }]) {
    const answer = await new Promise((resolve, reject) => dial(options, (err, data) => (err ? reject(err) : resolve(data))));
    assert.equal(answer, 'ok');
  }
  assert.equal(seen.length, 2);
  for (const options of seen) {
    assert.ok(options.abortSignal instanceof AbortSignal);
    assert.equal(inspect(options.abortSignal, AS_MODEM_DOES), '[AbortSignal]');
    // Still a working signal: aborting is untouched.
    assert.equal(options.abortSignal.aborted, false);
  }
  caller.abort();
  assert.equal(seen[1]!.abortSignal!.aborted, true);
});
