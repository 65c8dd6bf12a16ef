import { freePortOn } from '../../src/net/free-port.js';

/**
 * A free TCP port on 127.0.0.1 (bound, read, released): for a server a test starts later,
 * or, left unused, a port where a connection is refused.
 */
export function freePort(): Promise<number> {
  return freePortOn('127.0.0.1');
}
