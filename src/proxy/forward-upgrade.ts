import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { probeDeadPeer } from '../net/tcp-keepalive.js';
import { downstreamResponseHeaders } from './forwarded-headers.js';
import { HALF_CLOSED_MS, STALLED_MS, WebSocketTunnel } from './websocket-tunnel.js';
import { BadUpstreamResponseError, MAX_EARLY_HINTS } from './http1/response-parser.js';

/**
 * How long the app may take to accept the connection: the same bound as the
 * connection pools' `connectTimeout` for plain requests (upstream-pools.ts).
 */
export const UPGRADE_CONNECT_TIMEOUT_MS = 5_000;
/** How long the app may take to answer the handshake once connected (nginx's proxy_read_timeout is 60 s). */
export const UPGRADE_ANSWER_TIMEOUT_MS = 60_000;
/** How long a refused client may take to read its answer and hang up before its socket is destroyed. */
const LINGER_MS = 5_000;

export interface UpgradeTarget {
  host: string;
  port: number;
  path: string;
  /** The handshake's headers for the app as [name, value, ...], Host included. */
  headers: string[];
  /** How long the app may take to accept the connection; UPGRADE_CONNECT_TIMEOUT_MS by default. */
  connectTimeoutMs?: number;
  /** How long the app may take to answer the handshake once connected; UPGRADE_ANSWER_TIMEOUT_MS by default. */
  answerTimeoutMs?: number;
  /** How long the open tunnel (or a refusal's body) may wait for a side to take what it was sent (`timeouts.clientSend`); STALLED_MS by default. */
  stalledMs?: number;
}

/** A WebSocket handshake on its way to the app, or the tunnel it opened. */
export interface UpgradeExchange {
  /** Ends the exchange for shutdown: an open tunnel gets close frames (code 1001), anything else is cut. */
  goAway(graceMs: number): Promise<void>;
  /** Whether the tunnel is open (the app answered 101), not a handshake still on its way. */
  readonly open: boolean;
}

/**
 * Sends a WebSocket handshake to the app over a fresh connection (node:http,
 * no agent) and acts on its answer:
 *
 * - 103 (before the answer): relayed, a few at most.
 * - 101 with `Upgrade`: the app's status line and headers go to the client,
 *   then a WebSocketTunnel relays both ways, starting with what each side sent past
 *   its head (`clientHead`, and the app's bytes after its 101).
 * - anything else: relayed to the client as a plain HTTP response with
 *   `connection: close`, and the client's socket is ended (cut if a write
 *   waits `stalledMs` for the client to read). No tunnel is
 *   opened, and nothing the client sent after its handshake reaches the app:
 *   the client socket is only read once the tunnel exists.
 * - no answer: `onFailure` is told (the app refused, reset or timed out
 *   before answering, or answered a 101 without `Upgrade`: the client still
 *   waits for an HTTP answer, which the caller writes).
 *
 * `onClose` fires exactly once at the end, whatever happened, so activity
 * accounting stays exact; it is given the app's status (101 for a tunnel), or 0
 * when the app never answered, and the bytes relayed each way past the heads
 * (the tunnel's frames, or the body of the app's refusal), for the history.
 */
export function forwardUpgrade(
  client: Duplex,
  clientHead: Buffer,
  target: UpgradeTarget,
  onFailure: (err: Error) => void,
  onClose: (status: number, bytesIn: number, bytesOut: number) => void,
): UpgradeExchange {
  let finished = false;
  let answered = false;
  let status = 0;
  /** Body bytes of a refusal relayed to the client (a tunnel counts its own). */
  let refusalBytes = 0;
  let tunnel: WebSocketTunnel | undefined;
  const finish = () => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    if (tunnel === undefined) onClose(status, 0, refusalBytes);
    else onClose(status, tunnel.bytesToApp, tunnel.bytesToClient);
  };
  // Not read until a tunnel is open: bytes sent early wait in the socket, and are dropped if the app refuses.
  client.pause();

  const upstream: ClientRequest = request({
    host: target.host,
    port: target.port,
    path: target.path,
    method: 'GET',
    headers: target.headers,
    setHost: false,
    agent: false,
  });
  const connectMs = target.connectTimeoutMs ?? UPGRADE_CONNECT_TIMEOUT_MS;
  const answerMs = target.answerTimeoutMs ?? UPGRADE_ANSWER_TIMEOUT_MS;
  let timer = setTimeout(() => upstream.destroy(timeoutError('connect', connectMs)), connectMs);
  upstream.once('socket', (socket: Socket) => {
    socket.once('connect', () => {
      clearTimeout(timer);
      // From the handshake on: the tunnel has no idle bound, and an app host gone silent must not hold it for ever.
      probeDeadPeer(socket);
      if (!answered) timer = setTimeout(() => upstream.destroy(timeoutError('answer', answerMs)), answerMs);
    });
  });

  upstream.on('error', (err) => {
    if (finished) return;
    if (answered) {
      client.destroy();
      return finish();
    }
    onFailure(err);
    finish();
  });

  // An app's 103 Early Hints before its 101 reach the client, as a plain request's do (forward-http.ts): the
  // handshake is HTTP/1.1 (handshakeProblem refuses any other), whose client takes interim heads. Only hints with
  // a Link, as Node sends them, and only the first few, so an app sending them without end fills no client.
  let hintsRelayed = 0;
  upstream.on('information', (info: { statusCode: number; headers: IncomingMessage['headers'] }) => {
    if (info.statusCode !== 103 || info.headers.link === undefined || answered || finished || !client.writable) return;
    if (hintsRelayed++ >= MAX_EARLY_HINTS) return;
    client.write(Buffer.from(`HTTP/1.1 103 Early Hints\r\n${headerLines(downstreamResponseHeaders(info.headers))}\r\n`, 'latin1'));
  });

  upstream.on('upgrade', (res: IncomingMessage, socket: Socket, appHead: Buffer) => {
    answered = true;
    status = res.statusCode ?? 101;
    clearTimeout(timer);
    socket.on('error', () => socket.destroy());
    if (finished || client.destroyed || !client.writable) {
      socket.destroy();
      return finish();
    }
    socket.setNoDelay(true);
    client.write(responseHead(res, rawHeaderLines(res.rawHeaders)));
    tunnel = new WebSocketTunnel(client, socket, finish, HALF_CLOSED_MS, target.stalledMs ?? STALLED_MS);
    tunnel.start(clientHead, appHead);
  });

  upstream.on('response', (res: IncomingMessage) => {
    if ((res.statusCode ?? 0) < 200) {
      // A 101 without `Upgrade` (RFC 9110 §15.2.2 requires it), which Node takes for a final answer:
      // relayed, it was a switch to no protocol under `connection: close`. A 502, as a 101 to a plain request is.
      res.destroy();
      upstream.destroy();
      if (finished) return;
      onFailure(new BadUpstreamResponseError(`the app answered the WebSocket handshake with ${res.statusCode} and no Upgrade`));
      return finish();
    }
    answered = true;
    status = res.statusCode ?? 0;
    clearTimeout(timer);
    res.on('error', () => client.destroy());
    if (finished || client.destroyed || !client.writable) {
      res.destroy();
      return finish();
    }
    client.write(responseHead(res, headerLines(downstreamResponseHeaders(res.headers)) + 'connection: close\r\n'));
    // Relayed by hand, not piped: a client that stops reading is cut once a write has waited `stalledMs`
    // to drain, as the open tunnel's and a plain response's are (`timeouts.clientSend`). An app answering
    // the handshake with an endless body (an event stream that ignores Upgrade) held its connection, and
    // the app awake, for ever under a client that never reads.
    const stalledMs = target.stalledMs ?? STALLED_MS;
    res.on('data', (chunk: Buffer) => {
      refusalBytes += chunk.length;
      if (client.write(chunk)) return;
      res.pause();
      const stall = stalledMs > 0 ? setTimeout(() => client.destroy(), stalledMs).unref() : undefined;
      client.once('drain', () => {
        clearTimeout(stall);
        res.resume();
      });
    });
    res.once('end', () => client.end());
    res.once('close', () => {
      // Cut short by the app: the client must not take a truncated answer for a whole one.
      if (!res.complete) return void client.destroy();
      // A client that neither reads nor hangs up does not keep its socket for ever.
      setTimeout(() => client.destroy(), LINGER_MS).unref();
    });
    // Whatever the client sends from now on is read and dropped, so it sees its answer rather than a reset.
    client.resume();
  });

  const onClientGone = () => {
    if (tunnel) return; // the tunnel has its own listeners
    upstream.destroy();
    finish();
  };
  client.once('close', onClientGone);
  client.on('error', onClientGone);
  // A FIN before the app answered is a client gone (a closed tab; a WebSocket has no half-closed state, and
  // no frame may come before the 101). Node emits 'end' even on this paused socket, so a tunnel opened
  // after it never saw it, and stayed open to nobody for as long as the app kept its side. Once the app
  // answered, a FIN is the client's to send: a refusal is still relayed, an open tunnel handles it.
  client.once('end', () => {
    if (!answered) client.destroy();
  });
  upstream.end();

  return {
    goAway(graceMs: number): Promise<void> {
      if (tunnel) return tunnel.goAway(graceMs);
      upstream.destroy();
      client.destroy();
      finish();
      return Promise.resolve();
    },
    get open(): boolean {
      return tunnel !== undefined && !finished;
    },
  };
}

/** latin1: Node's parser decoded the app's header bytes as latin1, so this writes the very bytes it read. */
function responseHead(res: IncomingMessage, lines: string): Buffer {
  return Buffer.from(`HTTP/1.1 ${res.statusCode ?? 502} ${res.statusMessage ?? ''}\r\n${lines}\r\n`, 'latin1');
}

function rawHeaderLines(raw: readonly string[]): string {
  let text = '';
  for (let i = 0; i < raw.length; i += 2) text += `${raw[i]}: ${raw[i + 1]}\r\n`;
  return text;
}

function headerLines(headers: Record<string, string | string[]>): string {
  let text = '';
  for (const name in headers) {
    const value = headers[name]!;
    for (const v of Array.isArray(value) ? value : [value]) text += `${name}: ${v}\r\n`;
  }
  return text;
}

/** A timeout as classifyFailure knows it (ETIMEDOUT: a 504). */
function timeoutError(phase: 'connect' | 'answer', ms: number): Error {
  const what = phase === 'connect' ? 'accept the connection' : 'answer the WebSocket handshake';
  return Object.assign(new Error(`the app did not ${what} within ${ms / 1000} s`), { code: 'ETIMEDOUT' });
}
