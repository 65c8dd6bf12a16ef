import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { HALF_CLOSED_MS as HALF_CLOSED_DEFAULT_MS, WebSocketTunnel } from '../../src/proxy/websocket-tunnel.js';
import { clientCloseFrame, serverCloseFrame } from '../../src/proxy/websocket-frames.js';

/**
 * A WebSocket tunnel one of whose peers leaves with a FIN while the other
 * never ends its side: the half-close is passed on (what the other side still
 * sends gets through), and the tunnel ends at its half-closed bound instead of
 * living, and keeping its app awake, for ever. Real TCP sockets on 127.0.0.1.
 */
const HALF_CLOSED_MS = 300;
const WITHIN_MS = 15_000;

/** A connected pair: `near` is berth's end, `far` the peer's; `farHalfOpen`: the peer never ends its side by itself. */
async function pair(farHalfOpen: boolean, nearAccepted: boolean): Promise<{ near: Socket; far: Socket; dispose(): Promise<void> }> {
  // berth's listener allows half-open client sockets; an app that ignores FIN is a half-open server socket.
  const server = createServer({ allowHalfOpen: nearAccepted || farHalfOpen });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const dialled = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, allowHalfOpen: nearAccepted ? farHalfOpen : false });
  const other = await accepted;
  const [near, far] = nearAccepted ? [other, dialled] : [dialled, other];
  for (const s of [near, far]) s.on('error', () => undefined);
  return {
    near,
    far,
    dispose: async () => {
      near.destroy();
      far.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

// The app's side is Node's HTTP client socket, which ends itself at the app's FIN: only a client leaves half-way.
test('the client sends its close frame and a FIN, the app never ends its side: passed on, then the tunnel ends at its bound', async () => {
    const client = await pair(false, true);
    const app = await pair(true, false);
    try {
      let closes = 0;
      const closed = new Promise<void>((resolve) => new WebSocketTunnel(client.near, app.near, () => (++closes, resolve()), HALF_CLOSED_MS).start(Buffer.alloc(0), Buffer.alloc(0)));
      const [leaver, stayer] = [client.far, app.far];
      const leaverGot: Buffer[] = [];
      leaver.on('data', (c: Buffer) => leaverGot.push(c));
      const stayerEnded = new Promise<void>((resolve) => stayer.once('end', resolve));
      stayer.resume(); // reads the close frame, so that its end is seen
      // A closing handshake the client began: the app's answer (its close frame) must still reach it.
      leaver.end(clientCloseFrame(Buffer.from([1, 2, 3, 4]), 1000));
      await stayerEnded;
      // Half-closed, the side still open may send: it reaches the one that left.
      stayer.write('last words');
      const timer = setTimeout(() => assert.fail(`the tunnel did not end within ${WITHIN_MS} ms`), WITHIN_MS);
      await closed;
      clearTimeout(timer);
      assert.equal(closes, 1);
      assert.equal(Buffer.concat(leaverGot).toString(), 'last words');
      assert.ok(client.near.destroyed && app.near.destroyed, 'both sides cut');
    } finally {
      await client.dispose();
      await app.dispose();
    }
});

// RFC 6455 §7.1.5: a FIN without a close frame is an abnormal closure; the tunnel (counted in flight, keeping
// its app awake) ends once the frame the app is sending is through, not at the 30 s half-closed bound.
test('the client leaves with a FIN and no close frame: the app\'s frame under way is finished, then the tunnel ends promptly', async () => {
    const client = await pair(false, true);
    const app = await pair(true, false);
    try {
      let closes = 0;
      // The gateway's own half-closed bound: the tunnel must end well before it.
      const closed = new Promise<void>((resolve) => new WebSocketTunnel(client.near, app.near, () => (++closes, resolve())).start(Buffer.alloc(0), Buffer.alloc(0)));
      const [leaver, stayer] = [client.far, app.far];
      const leaverGot: Buffer[] = [];
      leaver.on('data', (c: Buffer) => leaverGot.push(c));
      // A text frame of 10 bytes, unmasked as an app sends it: its header and 4 bytes now, the rest after the FIN.
      const frame = Buffer.concat([Buffer.from([0x81, 10]), Buffer.from('0123456789')]);
      stayer.write(frame.subarray(0, 6));
      const deadline = Date.now() + WITHIN_MS;
      while (Buffer.concat(leaverGot).length < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(Buffer.concat(leaverGot).length, 6, 'the start of the frame reached the client');
      const stayerEnded = new Promise<void>((resolve) => stayer.once('end', resolve));
      const began = Date.now();
      leaver.end();
      await stayerEnded;
      stayer.write(frame.subarray(6));
      const timer = setTimeout(() => assert.fail(`the tunnel did not end within ${WITHIN_MS} ms`), WITHIN_MS);
      await closed;
      clearTimeout(timer);
      assert.equal(closes, 1);
      assert.ok(Date.now() - began < HALF_CLOSED_DEFAULT_MS / 2, `ended after ${Date.now() - began} ms`);
      // The whole frame, then berth's close frame (1001 Going Away) between two frames, never inside one.
      assert.deepEqual(Buffer.concat(leaverGot), Buffer.concat([frame, serverCloseFrame(1001)]));
      assert.ok(client.near.destroyed && app.near.destroyed, 'both sides cut');
    } finally {
      await client.dispose();
      await app.dispose();
    }
});

// A client that never reads from an app that floods: memory stays at a socket buffer's worth, and the tunnel ends at its stall bound.
test('an app floods a client that never reads: the gateway buffers a bounded amount, and the tunnel is cut at its stall bound', async () => {
  const client = await pair(false, true);
  const app = await pair(false, false);
  const STALLED_MS = 300;
  try {
    client.far.pause();
    let closes = 0;
    const closed = new Promise<void>((resolve) => new WebSocketTunnel(client.near, app.near, () => (++closes, resolve()), 30_000, STALLED_MS).start(Buffer.alloc(0), Buffer.alloc(0)));
    // Binary frames of 64 KiB each, unmasked (the app's side), written while the app's socket takes them.
    const frame = Buffer.concat([Buffer.from([0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]), Buffer.alloc(65_536, 1)]);
    let most = 0;
    const deadline = Date.now() + WITHIN_MS;
    let sent = 0;
    while (!app.far.destroyed && !app.far.writableEnded && Date.now() < deadline && sent < 2_000) {
      most = Math.max(most, client.near.writableLength);
      if (!app.far.write(frame)) {
        await Promise.race([new Promise((r) => app.far.once('drain', r)), new Promise((r) => app.far.once('close', r)), new Promise((r) => setTimeout(r, 100))]);
      }
      sent++;
    }
    const timer = setTimeout(() => assert.fail(`the tunnel did not end within ${WITHIN_MS} ms`), WITHIN_MS);
    await closed;
    clearTimeout(timer);
    assert.equal(closes, 1);
    assert.ok(sent < 2_000, `the app could write ${sent} frames (${sent * 64} KiB): nothing held it back`);
    assert.ok(most <= 256 * 1024, `the gateway buffered at most ${most} bytes for the client`);
  } finally {
    await client.dispose();
    await app.dispose();
  }
});
