/**
 * Header names lower-cased once per process instead of once per request: an
 * app or a client sends the same few names (`Content-Type`, `User-Agent`...)
 * on every message, and each `toLowerCase` of one with a capital in it is a
 * new string. Bounded: the first NAMES_KEPT short names seen are kept, any
 * other is lower-cased as before, so names that vary (or a peer sending
 * random ones) cost no more than they did and hold no memory.
 */
const NAMES_KEPT = 256;
const LONGEST_KEPT = 40;
const lowered = new Map<string, string>();

export function lowerHeaderName(name: string): string {
  const known = lowered.get(name);
  if (known !== undefined) return known;
  if (lowered.size >= NAMES_KEPT || name.length > LONGEST_KEPT) return name.toLowerCase();
  // A name sliced from a request head's text (the front's parser) is a view of that whole
  // text in V8, up to 16 KiB: kept as it is, it would pin the head for the process's life.
  // The table keeps a copy of its own (names are latin1, as Node and the front read them).
  const key = Buffer.from(name, 'latin1').toString('latin1');
  const lower = key.toLowerCase();
  lowered.set(key, lower);
  return lower;
}
