/**
 * The order of changes of desired state. Each change of some apps (an API apply,
 * delete or scale; a change followed from another gateway) runs after every earlier
 * change of any of those apps, and beside changes of other apps: one app's drawn-out
 * change (a container that ignores SIGTERM to the end of its grace, a slow rollout)
 * no longer holds every other app's. A change of the whole configuration (a reload)
 * runs alone: after every change asked for before it, before every one asked for after.
 *
 * The lanes only order; the short sections that read and write state all changes
 * share (the desired index, the store) take `commit`, which is never held across an
 * engine call.
 */
export class ChangeLanes {
  /** The last change asked for per app, settled or not; dropped once it settles and none followed. */
  private readonly tails = new Map<string, Promise<void>>();
  /** The last whole change: every change asked for after it waits for it. */
  private barrier: Promise<void> = Promise.resolve();
  /** Changes of apps under way or waiting: a whole change waits for them all. */
  private readonly pending = new Set<Promise<void>>();
  private committing: Promise<void> = Promise.resolve();

  /** Runs `change` after every earlier change of any of `apps`, and after every earlier whole change. */
  forApps<T>(apps: Iterable<string>, change: () => Promise<T>): Promise<T> {
    const keys = [...new Set(apps)];
    const waits = [this.barrier, ...keys.flatMap((app) => this.tails.get(app) ?? [])];
    const run = Promise.all(waits).then(change);
    const done = run.then(settledQuietly, settledQuietly);
    for (const app of keys) this.tails.set(app, done);
    this.pending.add(done);
    void done.then(() => {
      this.pending.delete(done);
      for (const app of keys) if (this.tails.get(app) === done) this.tails.delete(app);
    });
    return run;
  }

  /** Runs `change` alone: after every change asked for before it, and before every one asked for after it. */
  whole<T>(change: () => Promise<T>): Promise<T> {
    const run = Promise.all([this.barrier, ...this.pending]).then(change);
    this.barrier = run.then(settledQuietly, settledQuietly);
    return run;
  }

  /**
   * Runs `section` when no other section runs: a check of the desired state and the
   * write that follows it (a validation, then the store and the index), which another
   * change's write in between would make wrong. Kept short: no engine call in it.
   */
  commit<T>(section: () => Promise<T>): Promise<T> {
    const run = this.committing.then(section);
    this.committing = run.then(settledQuietly, settledQuietly);
    return run;
  }

  /** Whether a change of `app` is under way or waiting. */
  busy(app: string): boolean {
    return this.tails.has(app);
  }
}

function settledQuietly(): void {}
