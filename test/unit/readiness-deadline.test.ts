import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { waitUntilHealthy, waitUntilReady } from '../../src/activator/readiness.js';

/** A port on 127.0.0.1 that nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('at the deadline a container that exited is the reason, not the last probe', async () => {
  const port = await closedPort();
  let asked = 0;
  const result = await waitUntilReady({ host: '127.0.0.1', port }, {}, {
    deadline: performance.now() - 1, // the engine calls used up the budget
    stillStarting: async () => {
      asked++;
      return 'the container exited with code 1';
    },
  });
  assert.deepEqual(result, { ready: false, reason: 'the container exited with code 1' });
  assert.equal(asked, 1);
});

test('at the deadline a container still running gives the probe what it saw', async () => {
  const port = await closedPort();
  const result = await waitUntilReady({ host: '127.0.0.1', port }, {}, { deadline: performance.now() - 1, stillStarting: async () => undefined });
  assert.equal(result.ready, false);
  assert.match((result as { reason: string }).reason, /^not ready in time: .*ECONNREFUSED/);
});

test("out of time, the reason names the app's startTimeout, not the fraction of a millisecond the last probe was left", async () => {
  // Accepts connections and never answers: every probe runs to its own timeout, the last one cut to what is left.
  const sockets = new Set<Socket>();
  const server = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as { port: number };
    const result = await waitUntilReady({ host: '127.0.0.1', port }, {}, { deadline: performance.now() + 60, startTimeoutMs: 30_000, stillStarting: async () => undefined });
    assert.equal(result.ready, false);
    assert.equal((result as { reason: string }).reason, "not ready in time (the app's startTimeout is 30s): the last readiness check got no answer");
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test("Docker's health check out of time names the app's startTimeout", async () => {
  const result = await waitUntilHealthy(async () => ({ state: 'running', health: 'starting' }), performance.now() - 1, undefined, 90_000);
  assert.deepEqual(result, { ready: false, reason: "not ready in time (the app's startTimeout is 1m30s): Docker's health check says starting" });
});
