import type { BalancerPolicy, Candidate, Selection } from './balancer-policy.js';

/**
 * The available candidate with the fewest requests in flight; the default,
 * because it adapts to slow requests and uneven instances without any tuning.
 *
 * Ties are common (every idle instance has zero in flight), and taking the
 * first of equals would send all light traffic to one instance and leave the
 * others cold. So the scan starts one past the last choice, and the first of
 * several equally loaded candidates met from there wins: equals take turns.
 */
export class LeastConnections implements BalancerPolicy {
  readonly name = 'least-connections' as const;
  readonly needsRequest = false;
  private next = 0;

  select(candidates: readonly Candidate[]): Selection | undefined {
    const n = candidates.length;
    const start = n === 0 ? 0 : this.next % n;
    let best: Candidate | undefined;
    let bestIndex = 0;
    for (let k = 0; k < n; k++) {
      const i = start + k < n ? start + k : start + k - n;
      const candidate = candidates[i]!;
      // Strictly fewer: an equal one met later never displaces the earlier one.
      if (candidate.available && (best === undefined || candidate.inFlight < best.inFlight)) {
        best = candidate;
        bestIndex = i;
      }
    }
    if (best === undefined) return undefined;
    this.next = bestIndex + 1;
    return { candidate: best };
  }
}
