import { describeOutcome, type RawOutcome } from './raw-http.js';

/**
 * What a hostile exchange may end in. `statuses`: the first response's status
 * must be one of these (a number, or '2xx'/'4xx'/'5xx' for a class); `close`:
 * a close without any response is also fine ('allowed'), is the only right end
 * ('required'), or the connection must be closed after the response ('after').
 * Never allowed, whatever the case: a malformed answer, or a hang.
 */
export interface Expect {
  statuses?: (number | `${1 | 2 | 3 | 4 | 5}xx`)[];
  close?: 'allowed' | 'required' | 'after';
  /** How many complete responses, in order (pipelining); checked against `statuses` one by one. */
  count?: number;
  /** A hang (no answer, no close within the bound) is the server waiting legitimately. */
  openOk?: boolean;
}

function statusMatches(status: number, want: number | string): boolean {
  return typeof want === 'number' ? status === want : String(status)[0] === want[0];
}

/** Returns why `o` breaks `e`, or undefined when it holds. */
export function violation(o: RawOutcome, e: Expect): string | undefined {
  if (o.malformed) return `malformed answer: ${describeOutcome(o)}`;
  const first = o.responses.find((r) => r.status >= 200 || r.status === 101);
  if (!first) {
    if (o.closed && (e.close === 'allowed' || e.close === 'required')) return undefined;
    if (o.timedOut && e.openOk) return undefined;
    if (o.timedOut) return `no answer and no close within the bound (a hang): ${describeOutcome(o)}`;
    return `closed without an answer, expected ${JSON.stringify(e.statuses)}: ${describeOutcome(o)}`;
  }
  if (e.close === 'required') return `expected a close without an answer, got ${describeOutcome(o)}`;
  const finals = o.responses.filter((r) => r.status >= 200 || r.status === 101);
  if (e.count !== undefined) {
    if (finals.length !== e.count) return `expected ${e.count} responses, got ${describeOutcome(o)}`;
    for (const [i, r] of finals.entries()) {
      const want = e.statuses?.[i] ?? e.statuses?.[0];
      if (want !== undefined && !statusMatches(r.status, want)) return `response ${i + 1}: expected ${want}, got ${describeOutcome(o)}`;
    }
    return undefined;
  }
  if (e.statuses && !e.statuses.some((w) => statusMatches(first.status, w))) return `expected ${e.statuses.join('|')}, got ${describeOutcome(o)}`;
  if (e.close === 'after' && !o.closed) return `expected the connection closed after the answer, it stayed open: ${describeOutcome(o)}`;
  return undefined;
}
