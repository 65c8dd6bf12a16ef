import { NoOtherInstanceError, NoRouteError } from '../../src/errors.js';
import type { Admission, Admitted, AdmitOptions, PublicStatus, Upstream, UpstreamSource } from '../../src/proxy/upstream.js';

/**
 * An UpstreamSource for proxy tests: a fixed address per app, apps in `held`
 * look stopped and are admitted with a wait that lasts until the test settles
 * it, and every `admit`, `began` and `ended` is counted so tests can check
 * that the activity accounting balances and what was asked.
 */
export class TestUpstreams implements UpstreamSource {
  readonly upstreams = new Map<string, Upstream>();
  readonly held = new Set<string>();
  beganCount = 0;
  endedCount = 0;
  admitCount = 0;
  private pending: { app: string; resolve: (a: Admitted) => void; reject: (err: Error) => void }[] = [];

  constructor(targets: Record<string, { host: string; port: number }>) {
    for (const [app, { host, port }] of Object.entries(targets)) {
      this.upstreams.set(app, { app, instanceId: `test-${app}`, origin: `http://${host}:${port}`, host, port, inFlight: 0, failures: 0 });
    }
  }

  admit(app: string, _req: unknown, options?: AdmitOptions): Admission {
    this.admitCount++;
    const upstream = this.upstreams.get(app);
    if (!upstream) return { kind: 'fail', error: new NoRouteError(`no upstream for ${app}`) };
    if (options?.exclude === upstream.instanceId) return { kind: 'fail', error: new NoOtherInstanceError(app, upstream.instanceId) };
    if (!this.held.has(app)) return { kind: 'ready', upstream, setCookie: undefined };
    return { kind: 'wait', ready: new Promise((resolve, reject) => this.pending.push({ app, resolve, reject })) };
  }

  /** Admissions waiting right now. */
  get waitingCount(): number {
    return this.pending.length;
  }

  /** Ends every waiting admission: with the app's upstream, or with `err`. */
  settle(err?: Error): void {
    const pending = this.pending;
    this.pending = [];
    for (const p of pending) {
      if (err) p.reject(err);
      else p.resolve({ upstream: this.upstreams.get(p.app)!, setCookie: undefined });
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

  publicStatus(app: string): PublicStatus | undefined {
    return this.upstreams.has(app) ? { state: this.held.has(app) ? 'stopped' : 'running', ready: !this.held.has(app) } : undefined;
  }
}
