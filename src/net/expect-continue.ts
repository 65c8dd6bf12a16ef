import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * `Expect: 100-continue` (RFC 9110 §10.1.1) answered when berth knows its answer, not when Node
 * has parsed the head. Without a 'checkContinue' listener Node's server writes `100 Continue` at
 * once, before berth has routed the request: a client uploading to a path berth refuses (no
 * route, a policy's 403, the admin API's 401 or 413, a failed app) was told to send its body
 * anyway, only for it to be thrown away. With `expectContinue`, the 100 goes out only when the
 * body is about to be read (`sendContinue`); an answer given before that goes out without one,
 * and Node then closes the connection after it (its `_expect_continue` rule): the client may
 * never send a body it was not asked for, so bytes after the head cannot be taken for the next
 * request's, and one that sent its body anyway is not read as a pipelined request either.
 */

/** The responses still owing their 100, by request: WeakMap, so one never taken costs nothing. */
const owing = new WeakMap<IncomingMessage, ServerResponse>();

/** What a server hands its expectations to (node:http's Server, node:http2's secure server). */
export interface ExpectingServer {
  on(event: 'checkContinue' | 'checkExpectation', listener: (req: IncomingMessage, res: ServerResponse) => void): unknown;
}

/**
 * Has `server` give a request with `Expect: 100-continue` to `handle` without writing the 100
 * (sendContinue writes it), and one with any other expectation to `refuse` (the caller's 417,
 * RFC 9110 §10.1.1: berth meets no expectation but 100-continue).
 */
export function expectContinue(server: ExpectingServer, handle: (req: IncomingMessage, res: ServerResponse) => void, refuse: (req: IncomingMessage, res: ServerResponse) => void): void {
  server.on('checkContinue', (req, res) => {
    owing.set(req, res);
    handle(req, res);
  });
  server.on('checkExpectation', refuse);
}

/** Asks the client for its body now, if it is waiting to be asked; once, and never after the final head. */
export function sendContinue(req: IncomingMessage): void {
  const res = owing.get(req);
  if (res === undefined) return;
  owing.delete(req);
  if (!res.headersSent && !res.destroyed) res.writeContinue();
}

/**
 * The answer to an expectation berth cannot meet: 417, and over HTTP/1.x the connection is
 * closed after it, since a client that waited to be asked sent no body while one that did not
 * wait sent it, and berth cannot tell which (a guess could read a body as the next request).
 */
export const UNMET_EXPECTATION = 'berth meets no expectation but 100-continue; send the request without an Expect header';
