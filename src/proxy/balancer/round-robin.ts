import type { BalancerPolicy, Candidate, Selection } from './balancer-policy.js';

/**
 * Each available candidate in turn. The position is remembered as "one past
 * the index last chosen" and taken modulo the current length, rather than as a
 * pointer to an instance, so instances joining, leaving or going unavailable
 * between requests cost at most one skipped or repeated turn and never leave
 * the rotation stuck on an instance that is gone.
 */
export class RoundRobin implements BalancerPolicy {
  readonly name = 'round-robin' as const;
  readonly needsRequest = false;
  private next = 0;

  select(candidates: readonly Candidate[]): Selection | undefined {
    const n = candidates.length;
    const start = n === 0 ? 0 : this.next % n;
    for (let k = 0; k < n; k++) {
      const i = start + k < n ? start + k : start + k - n;
      const candidate = candidates[i]!;
      if (!candidate.available) continue;
      // Kept below the length (not an ever-growing counter), so it cannot overflow.
      this.next = i + 1;
      return { candidate };
    }
    return undefined;
  }
}
