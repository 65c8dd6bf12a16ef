import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * A request id the client may send (and a proxy in front of berth usually
 * does): at most 128 characters, all HTTP token characters, so that it is safe
 * to log and to pass on as a header.
 */
const SANE_ID = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/;

/** Random per process, so ids from two gateways or two runs do not collide. */
const PREFIX = randomBytes(6).toString('base64url');
let counter = 0;

/**
 * The id of a proxied request: the client's `X-Request-Id` when it is sane,
 * otherwise a new one (`<process prefix>-<counter in base 36>`), which costs a
 * number-to-string conversion rather than a UUID per request.
 */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  if (typeof given === 'string' && SANE_ID.test(given)) return given;
  return newRequestId();
}

/** A client's id berth passes on as it is (see SANE_ID). */
export function isSaneRequestId(given: string): boolean {
  return SANE_ID.test(given);
}

export function newRequestId(): string {
  counter = counter === Number.MAX_SAFE_INTEGER ? 1 : counter + 1;
  return `${PREFIX}-${counter.toString(36)}`;
}
