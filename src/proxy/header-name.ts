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
  const lower = name.toLowerCase();
  if (lowered.size < NAMES_KEPT && name.length <= LONGEST_KEPT) lowered.set(name, lower);
  return lower;
}
