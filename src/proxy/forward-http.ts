import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { downstreamResponseHeaders } from './forwarded-headers.js';
import { ClientClosedError } from '../errors.js';

/** How long one exchange may wait on each side; 0 turns a bound off. */
export interface ForwardBounds {
  /** The upstream's response headers (undici's per-request headersTimeout). */
  responseTimeoutMs: number;
  /** The client's request body going without a byte: 408, connection closed, upstream aborted. */
  bodyIdleMs: number;
  /** The client leaving the response unread (backpressure not drained): connection closed, upstream aborted. */
  sendMs: number;
}

const UNBOUNDED: ForwardBounds = { responseTimeoutMs: 0, bodyIdleMs: 0, sendMs: 0 };

export interface ForwardResult {
  status: number;
  bytesOut: number;
}

/**
 * Streams one request to the upstream and its response back, with backpressure
 * both ways: undici reads the request body from `req` as the upstream accepts
 * it, and the upstream's response is paused whenever the client is slower.
 *
 * This is the hot path, so it drives undici's dispatcher directly instead of
 * `request`/`stream`, which would add a promise, a body stream and a second
 * copy of the headers per request. `requestId`, when given, is answered as
 * `x-request-id` (unless the upstream answered one itself).
 *
 * The client-side bounds use the socket's own idle timer, armed only while it
 * means something (a body still arriving, a response held back by a client that
 * does not read), so a plain GET that flows costs no timer at all. A quiet
 * stream (SSE, long poll) is not cut: only the client's silence is bounded.
 */
export function forwardHttp(
  dispatcher: Dispatcher,
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
  let finished = false;
  /** The socket timer is ours while this is true; it is handed back (0) at the end. */
  let timed = false;
  let sendPaused = false;
  const socket = req.socket;
  const bodyTimed = hasBody && bounds.bodyIdleMs > 0 && !req.complete;
  const rearm = () => {
    const ms = sendPaused && bounds.sendMs > 0 ? bounds.sendMs : bodyTimed && !req.complete ? bounds.bodyIdleMs : 0;
    if (ms === 0 && !timed) return;
    timed = ms > 0;
    socket.setTimeout(ms);
  };
  const finish = (err?: Error) => {
    if (finished) return;
    finished = true;
    res.off('close', onClientClose);
    if (timed) {
      timed = false;
      socket.setTimeout(0);
    }
    done(err, { status, bytesOut });
  };
  let controller: Dispatcher.DispatchController | undefined;
  let pendingAbort: Error | undefined;
  const abort = (err: Error) => {
    if (controller) controller.abort(err);
    else pendingAbort = err;
  };
  const onClientClose = () => {
    if (!res.writableFinished) abort(new ClientClosedError());
  };
  res.on('close', onClientClose);
  if (bodyTimed) {
    // The socket's 'timeout' is re-emitted on the request while its body is incomplete.
    req.on('timeout', () => {
      if (finished || req.complete) return;
      const err = new ClientBodyTimeoutError(bounds.bodyIdleMs);
      // Answered before the upstream is aborted: undici then destroys the request
      // body, and with it the client's socket.
      if (!res.headersSent) res.setHeader('connection', 'close');
      finish(err);
      abort(err);
    });
    req.once('end', rearm);
    rearm();
  }

  dispatcher.dispatch(
    { method: req.method as Dispatcher.HttpMethod, path, headers, body: hasBody ? req : null, headersTimeout: bounds.responseTimeoutMs, bodyTimeout: 0 },
    {
      onRequestStart(ctl) {
        controller = ctl;
        if (pendingAbort) ctl.abort(pendingAbort);
        else if (res.destroyed) ctl.abort(new ClientClosedError());
      },
      onResponseStart(ctl, statusCode, upstreamHeaders, statusMessage) {
        // 1xx interim responses (other than a switch) are not relayed.
        if (statusCode < 200) return;
        // RFC 9110 §15 defines 1xx to 5xx only; a client could not make sense of more.
        if (statusCode > 599) return ctl.abort(new BadUpstreamResponseError(`the app answered with status ${statusCode}, which is not an HTTP status`));
        const headers = downstreamResponseHeaders(upstreamHeaders);
        // In the object given to writeHead: a setHeader before it would send every header through the slow merge.
        if (requestId !== undefined && headers['x-request-id'] === undefined) headers['x-request-id'] = requestId;
        try {
          // HTTP/2 has no status text (RFC 9113 §8.3.2): Node would warn about one.
          res.writeHead(statusCode, req.httpVersionMajor === 2 ? undefined : statusMessage, headers);
        } catch (err) {
          // Node refuses some status texts and header values that undici let through. A throw
          // here would escape into undici's connection as an unhandled 'error': answer 502 instead.
          res.removeHeader('x-request-id');
          return ctl.abort(new BadUpstreamResponseError(`the app's response head cannot be relayed: ${(err as Error).message}`));
        }
        status = statusCode;
        if (req.method === 'HEAD' || statusCode === 204 || statusCode === 304) res.flushHeaders();
      },
      onResponseData(ctl, chunk) {
        bytesOut += chunk.length;
        if (!res.write(chunk)) {
          ctl.pause();
          if (bounds.sendMs > 0) {
            // A client that stops reading must not hold the exchange (and the upstream) forever.
            if (!sendPaused && res.listenerCount('timeout') === 0) res.on('timeout', () => res.destroy());
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
      },
      onResponseEnd() {
        if (timed) {
          timed = false;
          socket.setTimeout(0);
        }
        res.end();
        finish();
      },
      onResponseError(_ctl, err) {
        finish(err);
      },
    },
  );
}

/** The app's response cannot be relayed as it is (classified as the app's 502). */
export class BadUpstreamResponseError extends Error {
  readonly code = 'bad_upstream_response';
}

/** The client went away mid-request; the caller answers nobody. */
export { ClientClosedError };

/** The client's request body went silent for longer than the body-idle timeout. */
export class ClientBodyTimeoutError extends Error {
  readonly code = 'client_body_timeout';
  constructor(readonly idleMs: number) {
    super(`the request body sent nothing for ${idleMs / 1000} s`);
  }
}
