import type { IncomingMessage } from 'node:http';
import { InputSource } from '../activator/input-source.js';
import { NoOtherInstanceError } from '../errors.js';
import type { Admission, Admitted, AdmitOptions, PublicStatus, UpstreamSource } from '../proxy/upstream.js';
import type { AppSpec, AppTimeouts } from '../spec/types.js';
import { ReadySet } from './ready-set.js';
import type { AppSnapshot, RequestFacts, RouteEntry, WakeAnswer } from './state-feed.js';
import { errorOf, factsOf } from './wire.js';
import { WorkerActivity } from './worker-activity.js';

/** What a worker asks of the control process (over IPC now; see state-feed.ts). */
export interface ControlLink {
  /** Asks the control to wake `app`; `leave` tells it the client went before the answer. */
  wake(app: string, facts: RequestFacts): { answer: Promise<WakeAnswer>; leave(): void };
  unreachable(app: string, instanceId: string, failures: number): Promise<boolean>;
  activity: WorkerActivity;
}

/** A routed app the worker has no snapshot of yet: nothing of it runs as far as it knows. */
const NOT_KNOWN: PublicStatus = Object.freeze({ state: 'stopped', ready: false });

/**
 * The proxy's upstream source in a worker process. It answers `admit` by
 * itself while the app's snapshot shows ready instances (the hot path: a map
 * lookup and the balancer, as in one process), and otherwise asks the control
 * to wake the app, whose activator decides as it does for its own proxy: one
 * start per app over all workers.
 */
export class WorkerUpstreams implements UpstreamSource {
  private readonly apps = new Map<string, ReadySet>();
  private entries = new Map<string, RouteEntry>();
  private readonly input: InputSource;

  constructor(
    private readonly control: ControlLink,
    inputSecret: Buffer,
  ) {
    this.input = new InputSource(inputSecret, () => this.entries as unknown as ReadonlyMap<string, AppSpec>);
  }

  /** New routes and per-app settings; apps no longer routed are forgotten. */
  setRoutes(entries: readonly RouteEntry[]): void {
    // InputSource reads `.input` as the spec's: the entry carries it only for `as: url`.
    this.entries = new Map(entries.map((e) => [e.app, e.input === undefined ? e : ({ ...e, input: { as: 'url', json: e.input } } as unknown as RouteEntry)]));
    for (const [app, set] of this.apps) {
      const entry = this.entries.get(app);
      if (!entry) this.apps.delete(app);
      else set.setBalance(entry.balance);
    }
  }

  /** Takes the app snapshots that are newer than what the worker holds. */
  applyApps(snapshots: readonly AppSnapshot[]): void {
    for (const snapshot of snapshots) this.readySet(snapshot.app)?.apply(snapshot);
  }

  /** Tells this worker's WebSockets on every instance of `app` to go away (its instances are being stopped). */
  tunnelsGoAway(app: string): void {
    this.apps.get(app)?.tunnelsGoAway();
  }

  appTimeouts(app: string): AppTimeouts | undefined {
    return this.entries.get(app)?.timeouts;
  }

  private readySet(app: string): ReadySet | undefined {
    let set = this.apps.get(app);
    if (!set) {
      const entry = this.entries.get(app);
      if (!entry) return undefined;
      set = new ReadySet(app, entry.balance, () => this.control.activity.instancesChanged(app));
      this.apps.set(app, set);
    }
    return set;
  }

  admitReady(app: string, req: IncomingMessage, exclude?: string): Admitted | undefined {
    const local = this.apps.get(app)?.admit(req, exclude);
    return local?.kind === 'ready' ? local : undefined;
  }

  admit(app: string, req: IncomingMessage, options?: AdmitOptions): Admission {
    const exclude = options?.exclude;
    const local = this.apps.get(app)?.admit(req, exclude);
    if (local) return local;
    // As the activator: a retry never wakes the app; whether the instance is gone is `unreachable`'s question.
    if (exclude !== undefined) return { kind: 'fail', error: new NoOtherInstanceError(app, exclude) };
    const wake = this.control.wake(app, factsOf(req, options?.upgrade === true));
    return { kind: 'later', admission: wake.answer.then((a) => this.admissionOf(app, a)), leave: wake.leave };
  }

  private admissionOf(app: string, answer: WakeAnswer): Admission {
    switch (answer.kind) {
      case 'ready': {
        // The snapshot may trail the answer; the same Upstream object either way, so counts add up.
        const set = this.readySet(app);
        const upstream = set ? set.upstreamFor(answer.upstream) : { app, instanceId: answer.upstream.id, instanceName: answer.upstream.name, origin: `http://${answer.upstream.host}:${answer.upstream.port}`, host: answer.upstream.host, port: answer.upstream.port, inFlight: 0, failures: 0 };
        return { kind: 'ready', upstream, setCookie: answer.setCookie };
      }
      case 'page':
        return { kind: 'page', title: answer.title, message: answer.message };
      case 'fail':
        return { kind: 'fail', error: errorOf(answer.error) };
    }
  }

  began(app: string): void {
    this.control.activity.began(app);
  }

  ended(app: string): void {
    this.control.activity.ended(app);
  }

  /** Per instance, this worker's requests in flight on the app. */
  inFlightByInstance(app: string): Array<[string, number]> {
    return this.apps.get(app)?.inFlightByInstance() ?? [];
  }

  publicStatus(app: string): PublicStatus | undefined {
    const set = this.apps.get(app);
    if (set && set.version >= 0) return set.status;
    return this.entries.has(app) ? NOT_KNOWN : undefined;
  }

  unreachable(app: string, instanceId: string): Promise<boolean> {
    return this.control.unreachable(app, instanceId, this.apps.get(app)?.failuresOf(instanceId) ?? 0);
  }

  inputFor(app: string, secret: string): string | undefined {
    return this.input.inputFor(app, secret);
  }
}
