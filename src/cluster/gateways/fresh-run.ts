/**
 * One task run at a time, where a caller needs a run that began after its
 * call: a call while a run is under way gets the next run (one, shared by
 * every caller meanwhile), not the one already reading older state. The
 * heartbeat needs it: a fence's answer must follow a write of the activity as
 * it is now, not one snapshotted before the request the fence is about.
 * The task's errors are its own to handle (it should not reject).
 */
export class FreshRun {
  private current?: Promise<void>;
  private next?: Promise<void>;

  constructor(private readonly task: () => Promise<void>) {}

  run(): Promise<void> {
    if (!this.current) return this.start();
    this.next ??= this.current.then(() => {
      this.next = undefined;
      return this.start();
    });
    return this.next;
  }

  private start(): Promise<void> {
    const p = this.task().finally(() => {
      if (this.current === p) this.current = undefined;
    });
    this.current = p;
    return p;
  }
}
