/**
 * "Did you mean" for unknown fields. A typo such as `idletimeout` or `strip_prefix`
 * is the most common reason a strict spec is refused, so name the field meant.
 */

function squash(name: string): string {
  return name.toLowerCase().replace(/[-_]/g, '');
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The allowed name closest to `unknown`, if it is close enough to be a typo. */
export function closestName(unknown: string, allowed: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of allowed) {
    const distance = editDistance(squash(unknown), squash(name));
    if (distance < bestDistance) [best, bestDistance] = [name, distance];
  }
  // Two edits catch transpositions and a dropped letter without suggesting nonsense for short keys.
  return bestDistance <= Math.min(2, Math.floor(unknown.length / 3)) ? best : undefined;
}

/** The message for an unknown field, naming the likely intended field or the allowed ones. */
export function unknownFieldMessage(key: string, allowed: readonly string[]): string {
  const closest = closestName(key, allowed);
  if (closest) return `unknown field (did you mean "${closest}"?)`;
  if (allowed.length === 0) return 'unknown field';
  return `unknown field (allowed: ${allowed.join(', ')})`;
}
