import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { probeOnce, silentReason } from '../../src/activator/readiness.js';

describe('silentReason', () => {
  const cases: Array<[string, number, number[] | undefined, string]> = [
    ['image exposes another port', 80, [8080], 'not ready in time: socket hang up; nothing answered on container port 80; the image exposes 8080'],
    ['image exposes several others', 80, [8080, 8443], 'not ready in time: socket hang up; nothing answered on container port 80; the image exposes 8080, 8443'],
    ['image exposes none', 80, [], 'not ready in time: socket hang up; nothing answered on container port 80; the image exposes no port'],
    ['the port is exposed: the loopback hint', 8080, [8080, 9000], 'not ready in time: socket hang up; nothing answered on container port 8080; an app listening there must listen on all addresses (0.0.0.0), not 127.0.0.1'],
    ['exposed unknown: the loopback hint', 80, undefined, 'not ready in time: socket hang up; nothing answered on container port 80; an app listening there must listen on all addresses (0.0.0.0), not 127.0.0.1'],
  ];
  for (const [name, port, exposed, want] of cases) it(name, () => assert.equal(silentReason('not ready in time: socket hang up', port, exposed), want));
});

describe('probeOnce tells silence from an answer', () => {
  it('a connection closed without an answer is silent', async () => {
    const server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const result = await probeOnce({ host: '127.0.0.1', port }, {}, 1_000);
      assert.equal(result.ready, false);
      assert.equal(!result.ready && result.silent, true);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
