import { freePortOn } from '../../src/net/free-port.js';

/** A TCP port free on 127.0.0.1 right now (the kernel's pick). */
export function freePort(): Promise<number> {
  return freePortOn('127.0.0.1');
}
