import type { PublicStatus, Upstream, UpstreamSource, WaitingInfo } from '../../src/proxy/upstream.js';

/**
 * An UpstreamSource for proxy tests: a fixed address per app, apps in `held`
 * look stopped (no ready pick) and their `acquire` waits until the test
 * settles it, and every `began`/`ended` is counted so tests can check that the
 * activity accounting balances.
 */
export class TestUpstreams implements UpstreamSource {
  readonly upstreams = new Map<string, Upstream>();
  readonly held = new Set<string>();
  beganCount = 0;
  endedCount = 0;
  acquireCount = 0;
  private pending: { app: string; resolve: (u: Upstream) => void; reject: (err: Error) => void }[] = [];

  constructor(targets: Record<string, { host: string; port: number }>) {
    for (const [app, { host, port }] of Object.entries(targets)) {
      this.upstreams.set(app, { app, instanceId: `test-${app}`, origin: `http://${host}:${port}`, host, port, inFlight: 0, failures: 0 });
    }
  }

  pick(app: string): Upstream | undefined {
    return this.held.has(app) ? undefined : this.upstreams.get(app);
  }

  acquire(app: string): Promise<Upstream> {
    this.acquireCount++;
    const upstream = this.upstreams.get(app);
    if (!upstream) return Promise.reject(new Error(`no upstream for ${app}`));
    if (!this.held.has(app)) return Promise.resolve(upstream);
    return new Promise((resolve, reject) => this.pending.push({ app, resolve, reject }));
  }

  /** Acquires waiting right now. */
  get waitingCount(): number {
    return this.pending.length;
  }

  /** Ends every waiting acquire: with the app's upstream, or with `err`. */
  settle(err?: Error): void {
    const pending = this.pending;
    this.pending = [];
    for (const p of pending) {
      if (err) p.reject(err);
      else p.resolve(this.upstreams.get(p.app)!);
    }
  }

  began(): void {
    this.beganCount++;
  }

  ended(): void {
    this.endedCount++;
  }

  /** Requests in flight on every instance, which must be back to 0 once all is quiet. */
  get inFlight(): number {
    let n = 0;
    for (const u of this.upstreams.values()) n += u.inFlight;
    return n;
  }

  waiting(app: string): WaitingInfo | undefined {
    return this.upstreams.has(app) ? { mode: 'hold' } : undefined;
  }

  publicStatus(app: string): PublicStatus | undefined {
    return this.upstreams.has(app) ? { state: this.held.has(app) ? 'stopped' : 'running', ready: !this.held.has(app) } : undefined;
  }
}
