/**
 * Whose in-flight count a request's end takes off. Requests are counted by app
 * name (proxy workers and other gateways report names only), but a name can
 * stand for two apps in turn: one deleted while its requests are still in
 * flight, and the one created again under its name. Each end is taken off the
 * oldest app that still has requests counted through here, so the new app is
 * never counted below its own requests (an idle stop under a request in flight)
 * and the deleted one drains as its requests end instead of waiting out its
 * grace. Ends can only be matched by order, not by request: while both have
 * requests in flight, the new app may be counted above its own, which only
 * delays its idle stop.
 */
export class ActivityOwners<T> {
  private readonly open = new Map<string, Array<{ owner: T; count: number }>>();

  /** A request of `app` began, counted by `owner`. */
  began(app: string, owner: T): void {
    const queue = this.open.get(app);
    const last = queue?.at(-1);
    if (last && last.owner === owner) last.count++;
    else if (queue) queue.push({ owner, count: 1 });
    else this.open.set(app, [{ owner, count: 1 }]);
  }

  /** A request of `app` ended: the owner to take it off, or undefined when none was counted here. */
  ended(app: string): T | undefined {
    const queue = this.open.get(app);
    const first = queue?.[0];
    if (!queue || !first) return undefined;
    if (--first.count === 0) queue.shift();
    if (queue.length === 0) this.open.delete(app);
    return first.owner;
  }

  /** Requests of `app` counted and not ended, for tests and the status. */
  openCount(app: string): number {
    return (this.open.get(app) ?? []).reduce((sum, e) => sum + e.count, 0);
  }
}
