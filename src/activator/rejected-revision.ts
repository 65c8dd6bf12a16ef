import { containerSpecHash, withContainerOf } from '../spec/hash.js';
import type { AppSpec } from '../spec/types.js';

/**
 * Remembers the revision an update rolled back. Every reconcile (an apply of
 * any app) brings every spec again, so without this a broken revision would
 * be tried at each one; its other settings (routes, timeouts) still apply,
 * and the containers stay on the revision that works. A spec with other
 * containers clears it.
 */
export class RejectedRevision {
  private hash?: string;

  /** The spec to run when `incoming` arrives while `current` runs. */
  filter(incoming: AppSpec, current: AppSpec): AppSpec {
    return this.hash !== undefined && containerSpecHash(incoming) === this.hash ? withContainerOf(incoming, current) : incoming;
  }

  reject(spec: AppSpec): void {
    this.hash = containerSpecHash(spec);
  }

  clear(): void {
    this.hash = undefined;
  }
}
