/**
 * The last lines of a service's logs. The manager applies `tail` to each task on its
 * own and sends their lines task after task, not in time order, so `--tail 1` of a
 * service that had five tasks printed five lines, the last one not necessarily the
 * newest. berth asks for timestamps and picks the newest lines itself.
 */

/** The newest `count` lines of the engine's timestamped lines, in time order, without the timestamps. */
export interface LogTail {
  text: string;
  /** The engine's `since` just past the newest line kept, for a follow to go on from; undefined when no line had a timestamp. */
  since?: string;
}

const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/;

/**
 * The engine's RFC 3339 timestamp (nanoseconds, trailing zeros cut, so the strings
 * do not sort as text) as nanoseconds since the epoch; undefined when it is none. Pure.
 */
export function timestampNs(text: string): bigint | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}Z`);
  if (Number.isNaN(ms)) return undefined;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** `since` for the engine ("seconds.nanoseconds"), one nanosecond past `ns`: the engine includes a line at `since` itself. Pure. */
export function sinceAfter(ns: bigint): string {
  const next = ns + 1n;
  return `${next / 1_000_000_000n}.${String(next % 1_000_000_000n).padStart(9, '0')}`;
}

/**
 * The newest `count` of `timestamped` lines (each `<RFC 3339> <text>`, as the engine
 * writes them with timestamps), sorted by time (lines of one instant keep their
 * order), with the timestamps taken off. A line without a timestamp keeps the time
 * of the line before it. Pure.
 */
export function lastLines(timestamped: string, count: number): LogTail {
  const lines: { ns: bigint; at: number; text: string }[] = [];
  let previous = 0n;
  for (const line of timestamped.split('\n')) {
    if (line === '') continue;
    const space = line.indexOf(' ');
    const ns = space > 0 ? timestampNs(line.slice(0, space)) : undefined;
    if (ns !== undefined) previous = ns;
    lines.push({ ns: ns ?? previous, at: lines.length, text: ns === undefined ? line : line.slice(space + 1) });
  }
  lines.sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : a.at - b.at));
  const kept = count > 0 ? lines.slice(-count) : [];
  const newest = lines.length > 0 ? lines[lines.length - 1]!.ns : 0n;
  return { text: kept.map((l) => `${l.text}\n`).join(''), ...(newest > 0n ? { since: sinceAfter(newest) } : {}) };
}
