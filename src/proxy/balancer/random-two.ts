import type { BalancerPolicy, Candidate, Selection } from './balancer-policy.js';

/**
 * "Power of two choices": two distinct available candidates drawn at random,
 * the less loaded of the pair wins. Nearly as even as least-connections but
 * without its herd effect: several gateways (or a burst arriving between
 * counter updates) do not all pile onto the same momentarily idlest instance.
 */
export class RandomOfTwo implements BalancerPolicy {
  readonly name = 'random-two' as const;
  readonly needsRequest = false;

  /** `random` returns a number in [0, 1); injectable so tests can be repeatable. */
  constructor(private readonly random: () => number = Math.random) {}

  select(candidates: readonly Candidate[]): Selection | undefined {
    let available = 0;
    for (let i = 0; i < candidates.length; i++) if (candidates[i]!.available) available++;
    if (available === 0) return undefined;

    // Ranks among the available ones, drawn without replacement and without
    // building a filtered array: b is drawn from the others and shifted past a.
    const a = this.draw(available);
    let b = available === 1 ? a : this.draw(available - 1);
    if (available > 1 && b >= a) b++;

    let first: Candidate | undefined;
    let second: Candidate | undefined;
    for (let i = 0, rank = 0; i < candidates.length; i++) {
      const candidate = candidates[i]!;
      if (!candidate.available) continue;
      if (rank === a) first = candidate;
      if (rank === b) second = candidate;
      rank++;
    }
    // On a tie the first draw wins, which is itself uniformly random.
    const candidate = second!.inFlight < first!.inFlight ? second! : first!;
    return { candidate };
  }

  private draw(n: number): number {
    return Math.min(n - 1, Math.floor(this.random() * n));
  }
}
