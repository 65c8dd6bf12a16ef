import { NoOtherInstanceError, NoRouteError } from '../errors.js';
import type { Admission, Admitted, AdmitOptions, PublicStatus, Upstream, UpstreamSource } from './upstream.js';

type Ready = Extract<Admission, { kind: 'ready' }>;

/**
 * A fixed app → address map. Used to benchmark the proxy against a backend on
 * the host and to test it without an engine; the gateway uses the activator.
 * Every known app is always ready: there is nothing to start or wait for.
 */
export class StaticUpstreams implements UpstreamSource {
  /** One ready answer per app, built once: never changed, so admitting allocates nothing. */
  private readonly answers = new Map<string, Ready>();

  constructor(targets: Record<string, { host: string; port: number }>) {
    for (const [app, { host, port }] of Object.entries(targets)) {
      // A fixed address has no container; its address is the name the history shows.
      const upstream: Upstream = { app, instanceId: `static-${app}`, instanceName: `${host}:${port}`, origin: `http://${host}:${port}`, host, port, inFlight: 0, failures: 0 };
      this.answers.set(app, Object.freeze({ kind: 'ready', upstream, setCookie: undefined }));
    }
  }

  admit(app: string, _req: unknown, options?: AdmitOptions): Admission {
    const answer = this.answers.get(app);
    if (!answer) return { kind: 'fail', error: new NoRouteError(`app ${app} has no upstream`) };
    // The one address is all there is: a retry has nowhere else to go.
    if (options?.exclude === answer.upstream.instanceId) return { kind: 'fail', error: new NoOtherInstanceError(app, options.exclude) };
    return answer;
  }

  admitReady(app: string, _req: unknown, exclude?: string): Admitted | undefined {
    const answer = this.answers.get(app);
    return answer === undefined || answer.upstream.instanceId === exclude ? undefined : answer;
  }

  publicStatus(app: string): PublicStatus | undefined {
    return this.answers.has(app) ? { state: 'running', ready: true } : undefined;
  }

  began(): void {}

  ended(): void {}
}
