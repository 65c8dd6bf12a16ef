import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { freePortOn } from '../../src/net/free-port.js';

/** Linux's default range of ports it hands out for a bind to port 0 and for outgoing connections. */
const DEFAULT_EPHEMERAL: readonly [number, number] = [32768, 60999];
/** The lowest port picked: above the well-known services a machine may run. */
const LOWEST = 10_000;
const TRIES = 50;

/**
 * A free TCP port on 127.0.0.1, for a server a test (or a process it starts) binds later,
 * or, left unused, a port where a connection is refused.
 *
 * Picked outside the kernel's ephemeral range: a port bound on port 0 and released (what
 * freePortOn does) is one the kernel hands to the next bind to port 0 or outgoing
 * connection on the machine as well, and under CI's load another process took it before
 * the test bound it (EADDRINUSE). Nothing takes a port outside that range unasked; two
 * tests picking at random among some 20 000 ports, each checked free by binding it, do
 * not meet.
 */
export async function freePort(): Promise<number> {
  const [low, high] = pickRange();
  for (let i = 0; i < TRIES && low <= high; i++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (await bindable(port)) return port;
  }
  return freePortOn('127.0.0.1');
}

/** The ports outside the ephemeral range to pick from: below it, or above it when it starts too low. */
function pickRange(): [number, number] {
  let [from, to] = DEFAULT_EPHEMERAL;
  try {
    const read = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (read.length === 2 && read.every((n) => Number.isInteger(n) && n > 0)) [from, to] = read as [number, number];
  } catch {
    // Not Linux: its default range is as good a guess as any.
  }
  return from - LOWEST >= 5_000 ? [LOWEST, from - 1] : [to + 1, 65_535];
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}
