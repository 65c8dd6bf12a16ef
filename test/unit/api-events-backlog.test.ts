// Event streams to clients that stop reading (a vanished client behind a full
// window looks the same to the server): each is dropped when its backlog is too
// big, stalls too long, or all of them together hold too much, and the heartbeat
// notices a stall when no event comes.
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import type { ApiContext } from '../../src/api/route-def.js';
import { streamEvents } from '../../src/api/routes/events.js';
import { backlogVerdict, StreamBacklogs, type BacklogBounds } from '../../src/api/stream-backlog.js';
import type { GatewayEvent } from '../../src/gateway/state-events.js';

const bounds: BacklogBounds = { perStream: 1000, total: 3000, stallMs: 100 };

describe('backlogVerdict', () => {
  const table: Array<[string, { unsent: number; unsentAll: number; stalledForMs: number }, number, ReturnType<typeof backlogVerdict>]> = [
    ['a stream that keeps up', { unsent: 0, unsentAll: 0, stalledForMs: 0 }, 500, 'write'],
    ['a stream that keeps up, while others are far behind', { unsent: 0, unsentAll: 10_000, stalledForMs: 0 }, 500, 'write'],
    ['a little behind', { unsent: 400, unsentAll: 400, stalledForMs: 50 }, 500, 'write'],
    ['past its own bound', { unsent: 600, unsentAll: 600, stalledForMs: 0 }, 500, 'too-much'],
    ['behind, and all together past theirs', { unsent: 100, unsentAll: 2900, stalledForMs: 0 }, 200, 'all-too-much'],
    ['behind for longer than the stall bound', { unsent: 1, unsentAll: 1, stalledForMs: 101 }, 1, 'stalled'],
    ['no backlog, whatever the clock says', { unsent: 0, unsentAll: 0, stalledForMs: 10_000 }, 1, 'write'],
  ];
  for (const [what, now, bytes, want] of table) it(`${what}: ${want}`, () => assert.equal(backlogVerdict(now, bytes, bounds), want));
});

/** A server streaming events to raw clients that never read; `push` sends one event of `bytes` to every stream. */
async function streams(backlogs: StreamBacklogs, heartbeatMs = 60_000) {
  const listeners = new Set<(event: GatewayEvent) => void>();
  const responses: ServerResponse[] = [];
  const gateway = { statuses: () => [], events: { subscribe: (fn: (event: GatewayEvent) => void) => (listeners.add(fn), () => listeners.delete(fn)) } };
  const server: Server = createServer((req, res) => {
    responses.push(res);
    streamEvents({ req, res, gateway } as unknown as ApiContext, undefined, backlogs, heartbeatMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const clients: Socket[] = [];
  const open = async (count: number) => {
    for (let i = 0; i < count; i++) {
      const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
      // A tiny receive buffer, never read: the server's writes back up soon.
      client.on('connect', () => client.pause());
      client.write('GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      clients.push(client);
    }
    for (let i = 0; i < 200 && listeners.size < clients.length; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(listeners.size, clients.length, 'every stream subscribed');
  };
  const push = (bytes: number) => {
    for (const fn of [...listeners]) fn({ type: 'deleted', app: 'x'.repeat(bytes), time: new Date() });
  };
  const close = async () => {
    for (const c of clients) c.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  };
  return { open, push, responses, listeners, close };
}

describe('event streams to clients that stopped reading', () => {
  it('all streams together never hold much more than the shared bound; streams that keep up are not dropped for it', async () => {
    const total = 2 * 1024 * 1024;
    const backlogs = new StreamBacklogs({ perStream: 1024 * 1024, total, stallMs: 60_000 });
    const s = await streams(backlogs);
    try {
      await s.open(8);
      let peak = 0;
      // Up to 30 MB to each of 8 streams, past what the kernel's socket buffers take: without the
      // shared bound, the streams would hold 8 MB (1 MB each) before any was dropped.
      for (let i = 0; i < 3000 && !s.responses.some((r) => r.destroyed); i++) {
        s.push(10 * 1024);
        peak = Math.max(peak, backlogs.unsentAll());
        await new Promise((r) => setImmediate(r));
      }
      assert.ok(peak <= total + 11 * 1024, `held at most the shared bound and one event (peak ${peak})`);
      assert.ok(s.responses.some((r) => r.destroyed), 'streams past the shared bound were dropped');
    } finally {
      await s.close();
    }
  });

  it('a stream that stays behind past the stall bound is dropped by the next heartbeat, though under its byte bound', async () => {
    const backlogs = new StreamBacklogs({ perStream: 64 * 1024 * 1024, total: 64 * 1024 * 1024, stallMs: 300 });
    const s = await streams(backlogs, 100);
    try {
      await s.open(1);
      // Enough to fill the socket buffers and leave a backlog, far under the byte bounds.
      for (let i = 0; i < 200 && backlogs.behindCount === 0; i++) {
        s.push(64 * 1024);
        await new Promise((r) => setImmediate(r));
      }
      assert.equal(backlogs.behindCount, 1, 'the stream is behind');
      // No more events: only heartbeats come, and one of them finds the stall.
      for (let i = 0; i < 300 && !s.responses[0]!.destroyed; i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(s.responses[0]!.destroyed, 'dropped');
      for (let i = 0; i < 100 && s.listeners.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(s.listeners.size, 0, 'and unsubscribed');
      assert.equal(backlogs.behindCount, 0);
    } finally {
      await s.close();
    }
  });
});
