import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { waitUntilReady } from '../../src/activator/readiness.js';

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
