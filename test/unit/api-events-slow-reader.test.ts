import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { test } from 'node:test';
import type { ApiContext } from '../../src/api/route-def.js';
import { MAX_UNREAD_EVENT_BYTES, streamEvents } from '../../src/api/routes/events.js';
import type { GatewayEvent } from '../../src/gateway/state-events.js';

test('an event stream whose client stops reading is dropped once its unsent bytes pass the bound', async () => {
  let listener: ((event: GatewayEvent) => void) | undefined;
  let streamRes: ServerResponse | undefined;
  const gateway = { statuses: () => [], events: { subscribe: (fn: (event: GatewayEvent) => void) => ((listener = fn), () => (listener = undefined)) } };
  const server = createServer((req, res) => {
    streamRes = res;
    streamEvents({ req, res, gateway } as unknown as ApiContext);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
  try {
    client.write('GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    for (let i = 0; i < 100 && !listener; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(listener, 'the stream subscribed');
    client.pause(); // and never reads again
    const big = 'x'.repeat(100 * 1024);
    // Far more than the kernel's socket buffers and the bound together: 40 MB.
    for (let i = 0; i < 400 && !streamRes!.destroyed; i++) {
      listener!({ type: 'deleted', app: big, time: new Date() });
      await new Promise((r) => setImmediate(r));
    }
    assert.ok(streamRes!.destroyed, `the stream was dropped (unsent: ${streamRes!.writableLength} bytes)`);
    assert.ok(streamRes!.writableLength <= MAX_UNREAD_EVENT_BYTES + big.length + 1024);
    for (let i = 0; i < 100 && listener; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(listener, undefined, 'and unsubscribed');
  } finally {
    client.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
