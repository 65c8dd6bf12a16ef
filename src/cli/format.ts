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

/** `612 ms`, `1.2 s`, `4m 12s`. */
export function preciseDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m ${s % 60}s`;
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

/** Local wall-clock time, `2026-11-23 14:02:07`, sortable and unambiguous in a table. */
export function localTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}
