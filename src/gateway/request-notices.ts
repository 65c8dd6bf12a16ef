import type { StateEvents } from './state-events.js';

/** The longest a `request` event waits, and the shortest gap between two of one app. */
export const REQUEST_EVENT_EVERY_MS = 1_000;

/**
 * Tells event-stream readers (the dashboard's Requests tab) that an app has new
 * history records, once they are written. Counts gather per app and leave as one
 * `request` event a second at most, so a busy app cannot flood the stream; the
 * readers fetch the records themselves.
 */
export class RequestNotices {
  private readonly counts = new Map<string, number>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly events: StateEvents) {}

  /** Called with the app of each record in a batch the history wrote. */
  written(apps: readonly string[]): void {
    for (const app of apps) this.counts.set(app, (this.counts.get(app) ?? 0) + 1);
    this.timer ??= setTimeout(() => this.publish(), REQUEST_EVENT_EVERY_MS).unref();
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.counts.clear();
  }

  private publish(): void {
    this.timer = undefined;
    const time = new Date();
    for (const [app, count] of this.counts) this.events.publish({ type: 'request', app, time, count });
    this.counts.clear();
  }
}
