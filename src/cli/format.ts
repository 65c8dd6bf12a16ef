/** Human forms of times, durations and sizes for tables and summaries. */

/** `12s`, `4m`, `3h`, `2d`: the largest whole unit, like kubectl's AGE column. */
export function shortDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

/** `12s ago`, `in 4m`, or `now`; `-` when there is no time. */
export function relativeTime(iso: string | null | undefined, nowMs = Date.now()): string {
  if (!iso) return '-';
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return '-';
  const delta = at - nowMs;
  if (Math.abs(delta) < 1000) return 'now';
  return delta < 0 ? `${shortDuration(-delta)} ago` : `in ${shortDuration(delta)}`;
}

/** `612 ms`, `1.2 s`, `4m 12s`, `3h 0m 12s`: a WebSocket open for hours read `180m 0s`. */
export function preciseDuration(ms: number): string {
  if (ms < 999.5) return `${Math.round(ms)} ms`;
  // 59.96 s rounds to "60.0 s" in tenths: from there on, whole seconds in minutes.
  if (ms < 59_950) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m ${s % 60}s`;
}

/** `512 B`, `1.2 KiB`, `3.4 MiB`. */
export function byteSize(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/**
 * A zone-less ISO date or time the user typed (`--since "2026-11-23 14:02:07"`, as
 * `berth history` prints its TIME column) as the UTC time it means here, in this
 * machine's zone; anything else as it is, for the API to read or refuse. The API
 * reads a zone-less time as UTC, so a time copied from the table was off by the
 * user's offset. Pure but for the zone.
 */
export function localInstant(value: string): string {
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,3})[0-9]*)?)?)?$/i.exec(value);
  if (!m) return value;
  const [y, mo, d, h = 0, mi = 0, s = 0] = m.slice(1, 7).map((part) => Number(part ?? 0));
  const at = new Date(y!, mo! - 1, d, h, mi, s, Number((m[7] ?? '0').padEnd(3, '0')));
  // A day or hour the calendar does not have (February 30th, 25:00) is left for the API to refuse.
  if (at.getFullYear() !== y || at.getMonth() !== mo! - 1 || at.getDate() !== d || at.getHours() !== h || at.getMinutes() !== mi) return value;
  return at.toISOString();
}

/** Local wall-clock time, `2026-11-23 14:02:07`, sortable and unambiguous in a table. */
export function localTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}
