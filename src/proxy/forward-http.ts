import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { downstreamResponseHeaders } from './forwarded-headers.js';

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
 */
export function forwardHttp(
  dispatcher: Dispatcher,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  headers: string[],
  done: (err: Error | undefined, result: ForwardResult) => void,
  requestId?: string,
): void {
  const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
  let status = 0;
  let bytesOut = 0;
  let finished = false;
  const finish = (err?: Error) => {
    if (finished) return;
    finished = true;
    res.off('close', onClientClose);
    done(err, { status, bytesOut });
  };
  let controller: Dispatcher.DispatchController | undefined;
  const onClientClose = () => {
    if (!res.writableFinished) controller?.abort(new ClientClosedError());
  };
  res.on('close', onClientClose);

  dispatcher.dispatch(
    { method: req.method as Dispatcher.HttpMethod, path, headers, body: hasBody ? req : null },
    {
      onRequestStart(ctl) {
        controller = ctl;
        if (res.destroyed) ctl.abort(new ClientClosedError());
      },
      onResponseStart(ctl, statusCode, upstreamHeaders, statusMessage) {
        // 1xx interim responses (other than a switch) are not relayed.
        if (statusCode < 200) return;
        status = statusCode;
        const headers = downstreamResponseHeaders(upstreamHeaders);
        // In the object given to writeHead: a setHeader before it would send every header through the slow merge.
        if (requestId !== undefined && headers['x-request-id'] === undefined) headers['x-request-id'] = requestId;
        res.writeHead(statusCode, statusMessage, headers);
        if (req.method === 'HEAD' || statusCode === 204 || statusCode === 304) res.flushHeaders();
      },
      onResponseData(ctl, chunk) {
        bytesOut += chunk.length;
        if (!res.write(chunk)) {
          ctl.pause();
          res.once('drain', () => ctl.resume());
        }
      },
      onResponseEnd() {
        res.end();
        finish();
      },
      onResponseError(_ctl, err) {
        finish(err);
      },
    },
  );
}

/** The client went away mid-request; the caller answers nobody. */
export class ClientClosedError extends Error {
  readonly code = 'client_closed';
  constructor() {
    super('client closed the connection');
  }
}
