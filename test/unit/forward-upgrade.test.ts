import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { forwardUpgrade } from '../../src/proxy/forward-upgrade.js';
import { classifyFailure } from '../../src/proxy/failure.js';
import { waitFor } from '../support/wait-for.js';

/** A connected pair of sockets on 127.0.0.1: `near` stands for the proxy's client socket (half-open, as the proxy's listener makes them, with `halfOpen`). */
async function socketPair(halfOpen = false): Promise<{ near: Socket; far: Socket; dispose: () => Promise<void> }> {
  const server = createServer({ allowHalfOpen: halfOpen });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const far = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port });
  const near = await accepted;
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

/**
 * An app on 127.0.0.1 that keeps its connections (cut by close()); `answer` is what it does with
 * each, by default reading (and dropping) the handshake, so it sees the proxy hang up.
 */
async function fakeApp(answer: (s: Socket) => void = (s) => s.resume()): Promise<{ port: number; sockets: Set<Socket>; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    answer(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return { port: (server.address() as AddressInfo).port, sockets, close };
}

const HEADERS = ['host', '127.0.0.1', 'connection', 'upgrade', 'upgrade', 'websocket', 'sec-websocket-key', 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version', '13'];

test('an app that accepts but never answers the handshake is a 504 once answerTimeoutMs is over, and onClose fires once', async () => {
  const app = await fakeApp();
  const pair = await socketPair();
  try {
    let closes = 0;
    const failed = new Promise<Error>((resolve) => {
      forwardUpgrade(pair.near, Buffer.alloc(0), { host: '127.0.0.1', port: app.port, path: '/ws', headers: HEADERS, answerTimeoutMs: 150 }, resolve, () => closes++);
    });
    const started = performance.now();
    const err = await failed;
    const ms = performance.now() - started;
    assert.ok(ms >= 100 && ms < 2_000, `failed after ${ms} ms`);
    const failure = classifyFailure(err, false);
    assert.equal(failure.status, 504);
    // Polled, then looked at a while longer for a second close: a fixed 50 ms may not reach the close on a loaded machine.
    await waitFor('the exchange ended', () => closes > 0, { timeoutMs: 5_000 });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(closes, 1);
  } finally {
    await app.close();
    await pair.dispose();
  }
});

test('a client gone before the app answers ends the exchange once, without a failure to answer', async () => {
  const app = await fakeApp();
  const pair = await socketPair();
  try {
    let closes = 0;
    let failures = 0;
    forwardUpgrade(pair.near, Buffer.alloc(0), { host: '127.0.0.1', port: app.port, path: '/ws', headers: HEADERS }, () => failures++, () => closes++);
    await new Promise((r) => setTimeout(r, 50));
    pair.far.resetAndDestroy();
    // Polled: the reset reaches the near side in a later poll, which a fixed 100 ms may not reach on a loaded machine.
    await waitFor('the exchange ended', () => closes > 0, { timeoutMs: 5_000 });
    // The app's connection was given up too.
    await waitFor("the app's connection given up", () => [...app.sockets].every((s) => s.destroyed || s.readableEnded), { timeoutMs: 5_000 });
    assert.ok([...app.sockets].every((s) => s.destroyed || s.readableEnded));
    assert.equal(closes, 1);
    assert.equal(failures, 0);
  } finally {
    await app.close();
    await pair.dispose();
  }
});

test('an app answering the handshake with an endless 200 to a client that never reads: the client is cut at the stall bound, and onClose fires once', async () => {
  // An event stream that ignores Upgrade: a 200 and chunks for as long as they are taken (bounded in count and time).
  const app = await fakeApp((s) => {
    s.once('data', async () => {
      s.write('HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n');
      const chunk = Buffer.from(`10000\r\n${'x'.repeat(0x10000)}\r\n`);
      const deadline = Date.now() + 10_000;
      for (let i = 0; i < 2_000 && !s.destroyed && Date.now() < deadline; i++) {
        if (!s.write(chunk)) await new Promise((r) => setTimeout(r, 20));
      }
    });
  });
  const pair = await socketPair();
  try {
    pair.far.pause();
    let closes = 0;
    let failures = 0;
    forwardUpgrade(pair.near, Buffer.alloc(0), { host: '127.0.0.1', port: app.port, path: '/ws', headers: HEADERS, stalledMs: 300 }, () => failures++, () => closes++);
    await waitFor('the exchange ended', () => closes > 0, { timeoutMs: 8_000 });
    assert.ok(pair.near.destroyed, 'the client that never read was cut');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(closes, 1);
    assert.equal(failures, 0);
  } finally {
    await app.close();
    await pair.dispose();
  }
});

test('an app answering the handshake with a 101 without Upgrade is a 502, never relayed as a switch to no protocol', async () => {
  const app = await fakeApp((s) => s.once('data', () => s.write('HTTP/1.1 101 Switching Protocols\r\n\r\n\x81\x02hi')));
  const pair = await socketPair();
  try {
    let closes = 0;
    let status = -1;
    let received = '';
    pair.far.on('data', (c: Buffer) => (received += c.toString('latin1')));
    const failed = new Promise<Error>((resolve) => {
      forwardUpgrade(pair.near, Buffer.alloc(0), { host: '127.0.0.1', port: app.port, path: '/ws', headers: HEADERS }, resolve, (s) => (closes++, (status = s)));
    });
    let answered: Error | undefined;
    void failed.then((e) => (answered = e));
    const err = await waitFor("the app's answer taken for a failure to answer", () => answered, { timeoutMs: 5_000 });
    const failure = classifyFailure(err, false);
    assert.equal(failure.status, 502);
    assert.match(failure.reason, /101 and no Upgrade/);
    await waitFor('the exchange ended', () => closes > 0, { timeoutMs: 5_000 });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(closes, 1);
    assert.equal(status, 0, 'no answer of the app was relayed');
    assert.equal(received, '', 'nothing reached the client but what the caller writes');
  } finally {
    await app.close();
    await pair.dispose();
  }
});

test('a client leaving with a FIN before the app answers: no tunnel opens to nobody once the 101 comes, and onClose fires once', async () => {
  let answer: (() => void) | undefined;
  const app = await fakeApp((s) => s.once('data', () => (answer = () => s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n'))));
  const pair = await socketPair(true);
  try {
    let closes = 0;
    let failures = 0;
    forwardUpgrade(pair.near, Buffer.alloc(0), { host: '127.0.0.1', port: app.port, path: '/ws', headers: HEADERS }, () => failures++, () => closes++);
    await waitFor('the handshake to reach the app', () => answer !== undefined, { timeoutMs: 5_000 });
    // A closed browser tab: a FIN alone, and the app answers only after it.
    pair.far.end();
    await waitFor('the client that left to be closed', () => pair.near.destroyed, { timeoutMs: 5_000 });
    answer!();
    await waitFor('the exchange ended', () => closes > 0, { timeoutMs: 5_000 });
    await waitFor("the app's connection given up", () => [...app.sockets].every((s) => s.destroyed || s.readableEnded), { timeoutMs: 5_000 });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(closes, 1);
    assert.equal(failures, 0);
  } finally {
    await app.close();
    await pair.dispose();
  }
});
