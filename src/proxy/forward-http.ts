import type { IncomingMessage, ServerResponse } from 'node:http';
import { ownChunk, type ExchangeControl } from './http1/exchange.js';
import type { Http1Pool } from './http1/upstream-pool.js';
import { BadUpstreamResponseError, type ResponseHeaders } from './http1/response-parser.js';
import { ClientClosedError } from '../errors.js';
import { isEventStream } from './endless-response.js';
import { probeDeadPeer } from '../net/tcp-keepalive.js';

/** How long one exchange may wait on each side; 0 turns a bound off. */
export interface ForwardBounds {
  /** The upstream's response head, from the request's sending. */
  responseTimeoutMs: number;
  /** The client's request body going without a byte: 408, connection closed, upstream aborted. */
  bodyIdleMs: number;
  /**
   * The client leaving the response unread (backpressure not drained), or a client that sent its
   * FIN left a begun response silent: connection closed, upstream aborted.
   */
  sendMs: number;
}

const UNBOUNDED: ForwardBounds = { responseTimeoutMs: 0, bodyIdleMs: 0, sendMs: 0 };

export interface ForwardResult {
  status: number;
  /** Request body bytes written to the app (whatever their framing). */
  bytesIn: number;
  /** Response body bytes relayed to the client. */
  bytesOut: number;
}

/**
 * Streams one request to the upstream and its response back, with backpressure
 * both ways: the pool's connection reads the request body from `req` as the
 * upstream accepts it, and the upstream's response is paused whenever the
 * client is slower. `requestId`, when given, is answered as `x-request-id`
 * (unless the upstream answered one itself).
 *
 * The client-side bounds use the request's own idle timer (the socket's over
 * HTTP/1.1, the stream's over HTTP/2), armed only while it means something (a
 * body still arriving, a response held back by a client that does not read),
 * so a plain GET that flows costs no timer at all. A quiet stream (SSE, long
 * poll) is not cut: only the client's silence is bounded, and the client's FIN.
 * Over HTTP/1.1 a FIN is all the proxy sees of a client that closed (it looks
 * the same as a half-close, which berth answers), and while the response is
 * quiet nothing is written that could draw the client's reset: so once the
 * head went out, a response silent for the send bound after a FIN is ended
 * (the socket's timer counts writes as activity), or a quiet event stream
 * would hold the upstream and the app's activity until the app wrote again.
 */
export function forwardHttp(
  pool: Http1Pool,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  headers: string[],
  done: (err: Error | undefined, result: ForwardResult) => void,
  requestId?: string,
  bounds: ForwardBounds = UNBOUNDED,
): void {
  const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
  let status = 0;
  let bytesOut = 0;
  /** The response head went to the client (with body bytes, or alone by onRead). */
  let headFlushed = false;
  let finished = false;
  /** The socket timer is ours while this is true; it is handed back (0) at the end. */
  let timed = false;
  let sendPaused = false;
  /** The client sent its FIN (HTTP/1.1; an HTTP/2 client that leaves resets or closes its stream). */
  let clientEnded = false;
  // req.setTimeout, not req.socket.setTimeout: over HTTP/2 the socket is the whole session's, whose timer
  // any other stream's traffic restarts and whose 'timeout' reaches neither req nor res, so a stalled
  // body or an unread response was never bounded. The stream's timer emits 'timeout' on both.
  const timer = req;
  const bodyTimed = hasBody && bounds.bodyIdleMs > 0 && !req.complete;
  const rearm = () => {
    const sendBound = sendPaused || (clientEnded && status !== 0);
    const ms = sendBound && bounds.sendMs > 0 ? bounds.sendMs : bodyTimed && !req.complete ? bounds.bodyIdleMs : 0;
    if (ms === 0 && !timed) return;
    timed = ms > 0;
    timer.setTimeout(ms);
  };
  /** The send bound's timeout cuts the connection (the exchange is aborted by its close). */
  const cutOnTimeout = () => {
    if (res.listenerCount('timeout') === 0) res.on('timeout', () => res.destroy());
  };
  /** The app's answer is an event stream: its client sending EOF has left (see endless-response.ts). */
  let endsOnClientEof = false;
  const onClientEnd = () => {
    clientEnded = true;
    // Destroyed, the response closes, and onClientClose aborts the exchange.
    if (endsOnClientEof) return void res.destroy();
    if (bounds.sendMs === 0) return;
    cutOnTimeout();
    rearm();
  };
  const clientSocket = req.httpVersionMajor < 2 ? req.socket : undefined;
  const finish = (err?: Error) => {
    if (finished) return;
    finished = true;
    res.off('close', onClientClose);
    clientSocket?.off('end', onClientEnd);
    if (timed) {
      timed = false;
      timer.setTimeout(0);
    }
    // The app answered (or failed) before the request body's end, which the upstream side may have paused on
    // backpressure. Node's server discards a body nobody read once its response is done, but not one that was
    // read from: paused, the rest was never read, nor the next request behind it, and no bound was left to end
    // the connection. The rest goes to nobody, as Node and nginx discard an unread body.
    if (hasBody && !req.complete && req.isPaused()) req.resume();
    done(err, { status, bytesIn: controller === undefined ? 0 : controller.bodyBytes, bytesOut });
  };
  let controller: ExchangeControl | undefined;
  let pendingAbort: Error | undefined;
  const abort = (err: Error) => {
    if (controller) controller.abort(err);
    else pendingAbort = err;
  };
  // Removed by finish(), which onEnd calls right after res.end(): a 'close' heard here came before the
  // response was whole, so the client left. res.writableFinished says nothing over HTTP/2: Node's
  // compatibility API emits 'finish' on a stream that was reset (a client's CANCEL, a Content-Length
  // that lied), so a cancelled long poll or upload was never aborted and its exchange never ended.
  const onClientClose = () => abort(new ClientClosedError());
  res.on('close', onClientClose);
  if (clientSocket !== undefined) {
    if (clientSocket.readableEnded) clientEnded = true;
    else clientSocket.once('end', onClientEnd);
  }
  if (bodyTimed) {
    // The timer's 'timeout' is emitted on the request (over HTTP/1.1, while its body is incomplete).
    req.on('timeout', () => {
      if (finished || req.complete) return;
      const err = new ClientBodyTimeoutError(bounds.bodyIdleMs);
      // Answered before the upstream is aborted; the connection is closed after the answer. (Over HTTP/2
      // only the stream ends: Node throws on a Connection header there, which would end the process.)
      if (!res.headersSent && req.httpVersionMajor < 2) res.setHeader('connection', 'close');
      finish(err);
      abort(err);
    });
    req.once('end', rearm);
    rearm();
  }

  /** The app's head, read and not yet given to `res` (see onHead): three variables, no object per request. */
  let held: ResponseHeaders | undefined;
  let heldStatus = 0;
  let heldText = '';
  /** Gives the held head to `res`; answers the error when Node refuses it (nothing was written: a 502 follows). */
  const writeHead = (headers: ResponseHeaders): Error | undefined => {
    held = undefined;
    const statusCode = heldStatus;
    // The parser's own object, hop-by-hop fields already left out: written as it is.
    // In the object given to writeHead: a setHeader before it would send every header through the slow merge.
    if (requestId !== undefined && headers['x-request-id'] === undefined) headers['x-request-id'] = requestId;
    // A field given to writeHead replaces one of its name set on `res` before: the app's Set-Cookie dropped the
    // balancer's sticky cookie (proxy-server's forward), and the client was never pinned. Both go, the app's first.
    const appCookies = headers['set-cookie'];
    if (appCookies !== undefined) {
      const pin = res.getHeader('set-cookie');
      if (pin !== undefined) headers['set-cookie'] = typeof appCookies === 'string' ? [appCookies, ...listOf(pin)] : appCookies.concat(listOf(pin));
    }
    try {
      // HTTP/2 has no status text (RFC 9113 §8.3.2): Node would warn about one.
      if (req.httpVersionMajor === 2) writeHeadOverHttp2(res, statusCode, headers);
      else res.writeHead(statusCode, heldText, headers);
    } catch (err) {
      // Node refuses some heads the parser let through (over HTTP/2: a singleton field such as ETag twice):
      // answer 502 instead of relaying half a head. The fields it took before refusing are taken back, or
      // berth's 502 went with them, and was refused in turn (no answer at all, or the process ended).
      for (const name in headers) res.removeHeader(name);
      return new BadUpstreamResponseError(`the app's response head cannot be relayed: ${(err as Error).message}`);
    }
    status = statusCode;
    // Over HTTP/2 an event stream's client that leaves closes its stream, which onClientClose hears.
    if (clientSocket !== undefined && isEventStream(headers['content-type'])) {
      endsOnClientEof = true;
      // A quiet stream to a client gone without a FIN (closed laptop) was held for ever, as a tunnel was.
      probeDeadPeer(clientSocket);
      if (clientEnded) setImmediate(() => res.destroy());
    }
    if (req.method === 'HEAD' || statusCode === 204 || statusCode === 304) {
      headFlushed = true;
      res.flushHeaders();
    }
    // A FIN that came while the head was awaited: the send bound starts with the head.
    if (clientEnded && bounds.sendMs > 0) {
      cutOnTimeout();
      rearm();
    }
    return undefined;
  };

  pool.dispatch(
    { method: req.method ?? 'GET', path, headers, body: hasBody ? req : null, headersTimeoutMs: bounds.responseTimeoutMs },
    {
      onStart(ctl) {
        controller = ctl;
        if (pendingAbort) ctl.abort(pendingAbort);
        else if (res.destroyed) ctl.abort(new ClientClosedError());
      },
      onHead(_ctl, statusCode, headers, statusMessage) {
        if (statusCode < 200) return relayEarlyHints(req, res, headers);
        // Held until the read that brought it is handled (onRead), or body bytes or the end come first: a
        // body that breaks off in that same read (a bad chunk size) is then a 502, as nothing was written.
        held = headers;
        heldStatus = statusCode;
        heldText = statusMessage;
      },
      onRead() {
        if (held !== undefined) {
          const refused = writeHead(held);
          if (refused !== undefined) return controller?.abort(refused);
        }
        // A head came and no body with it (an event stream's may come much later): the head goes alone.
        // (headersSent is true from writeHead on, though Node holds the head for the first write.)
        if (headFlushed || status === 0 || res.destroyed) return;
        headFlushed = true;
        res.flushHeaders();
      },
      onData(ctl, data) {
        if (held !== undefined) {
          const refused = writeHead(held);
          if (refused !== undefined) {
            ctl.abort(refused);
            return true;
          }
        }
        headFlushed = true;
        bytesOut += data.length;
        // Node's response keeps what it is given until it is written: a copy of a small chunk.
        const { chunk, copied } = ownChunk(data);
        const flowing = res.write(chunk);
        if (!flowing) {
          ctl.pause();
          if (bounds.sendMs > 0) {
            // A client that stops reading must not hold the exchange (and the upstream) forever.
            cutOnTimeout();
            sendPaused = true;
            rearm();
          }
          res.once('drain', () => {
            if (sendPaused) {
              sendPaused = false;
              rearm();
            }
            ctl.resume();
          });
        }
        return copied;
      },
      onEnd() {
        // The exchange is over already (an abort would do nothing): a head Node refuses fails it here.
        const refused = held === undefined ? undefined : writeHead(held);
        if (refused !== undefined) return finish(refused);
        if (timed) {
          timed = false;
          timer.setTimeout(0);
        }
        res.end();
        finish();
      },
      onError(err) {
        finish(err);
      },
    },
  );
}

/**
 * An app's 103 Early Hints, sent on to the client before the final answer (Node writes them: an
 * interim head over HTTP/1.1, a HEADERS frame over HTTP/2), so its browser preloads while the app
 * works. Never to an HTTP/1.0 client (RFC 9110 §15.2), nor once the final head is on its way. Node
 * sends only hints with a Link field and throws on one it finds malformed: those are dropped, as
 * hints may be.
 */
function relayEarlyHints(req: IncomingMessage, res: ServerResponse, headers: ResponseHeaders): void {
  if (res.headersSent || res.destroyed || (req.httpVersionMajor === 1 && req.httpVersionMinor === 0)) return;
  try {
    res.writeEarlyHints(headers);
  } catch {
    // A Link Node refuses: the final answer follows as it would have.
  }
}

/** A header as `res.getHeader` answers it, as a list of values. */
function listOf(value: number | string | string[]): string[] {
  return Array.isArray(value) ? value : [String(value)];
}

/** The app's response cannot be relayed as it is (classified as the app's 502). */
export { BadUpstreamResponseError };

/** The client went away mid-request; the caller answers nobody. */
export { ClientClosedError };

/** The client's request body went silent for longer than the body-idle timeout. */
export class ClientBodyTimeoutError extends Error {
  readonly code = 'client_body_timeout';
  constructor(readonly idleMs: number) {
    super(`the request body sent nothing for ${idleMs / 1000} s`);
  }
}

/**
 * Over HTTP/2 Node refuses a second value of a field that may have one (Content-Type,
 * ETag, Location… twice), which HTTP/1.1 relays as the app sent it: the same careless app
 * answered an HTTP/1.1 client and gave a browser on HTTP/2 a 502. The first value is kept,
 * as a client reading HTTP/1.1 mostly does; each such field is tried once (a head has few).
 */
function writeHeadOverHttp2(res: ServerResponse, statusCode: number, headers: ResponseHeaders): void {
  for (let tries = 0; ; tries++) {
    try {
      res.writeHead(statusCode, headers);
      return;
    } catch (err) {
      const field = (err as { code?: string }).code === 'ERR_HTTP2_HEADER_SINGLE_VALUE' ? /"([^"]+)"/.exec((err as Error).message)?.[1] : undefined;
      const values = field === undefined ? undefined : headers[field];
      if (!Array.isArray(values) || tries > 32) throw err;
      res.removeHeader(field!);
      headers[field!] = values[0]!;
    }
  }
}
