/**
 * A readiness or health probe against a path that streams without end (an event
 * stream, a video at `/`): the probe took the status and then read the body for
 * good, so every probe (a health check each interval) left one more connection
 * open, streaming into berth, for as long as the app ran.
 */
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { probeOnce } from '../../src/activator/readiness.js';
import { sleep } from '../support/fake-runtime.js';

test('probes of an endless body take the status and close their connections', async () => {
  const open = new Set<ServerResponse>();
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    open.add(res);
    res.on('close', () => open.delete(res));
    const size = req.url === '/fast' ? 16 * 1024 : 16;
    const timer = setInterval(() => res.write(Buffer.alloc(size, 'x')), 5);
    timers.add(timer);
    res.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    for (const path of ['/slow', '/fast']) {
      for (let i = 0; i < 3; i++) assert.deepEqual(await probeOnce({ host: '127.0.0.1', port }, { path }, 300), { ready: true });
    }
    const deadline = performance.now() + 3_000;
    while (open.size > 0 && performance.now() < deadline) await sleep(20);
    assert.equal(open.size, 0, 'every probe connection is closed: by its size bound (/fast) or its time bound (/slow)');
  } finally {
    for (const timer of timers) clearInterval(timer);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
