import type { AppSpec } from '../spec/types.js';

/** Wakes the apps `spec` depends on, in order, and holds them up until the returned release is called. */
export type WakeDependencies = (spec: AppSpec) => Promise<() => void>;

/**
 * The hold an app keeps on the apps it depends on (`dependsOn`) while it is
 * up: taken once at its first start, released when it stops, so a database
 * stays up exactly as long as an app that needs it.
 */
export class DependencyHold {
  private held?: () => void;

  constructor(private readonly wake: WakeDependencies | undefined) {}

  /** Wakes the dependencies unless already held; rejects when one cannot start. */
  async take(spec: AppSpec): Promise<void> {
    if (this.held || !this.wake) return;
    this.held = await this.wake(spec);
  }

  /** Lets the dependencies go idle again; a no-op when nothing is held. */
  release(): void {
    const held = this.held;
    this.held = undefined;
    held?.();
  }
}
