import { NotFoundError } from '../errors.js';
import type { PublicStatus, Upstream, UpstreamSource, WaitingInfo } from './upstream.js';

/**
 * A fixed app → address map. Used to benchmark the proxy against a backend on
 * the host and to test it without an engine; the gateway uses the activator.
 */
export class StaticUpstreams implements UpstreamSource {
  private readonly upstreams = new Map<string, Upstream>();

  constructor(targets: Record<string, { host: string; port: number }>) {
    for (const [app, { host, port }] of Object.entries(targets)) {
      // A fixed address has no container; its address is the name the history shows.
      this.upstreams.set(app, { app, instanceId: `static-${app}`, instanceName: `${host}:${port}`, origin: `http://${host}:${port}`, host, port, inFlight: 0, failures: 0 });
    }
  }

  pick(app: string): Upstream | undefined {
    return this.upstreams.get(app);
  }

  acquire(app: string): Promise<Upstream> {
    const upstream = this.upstreams.get(app);
    return upstream ? Promise.resolve(upstream) : Promise.reject(new NotFoundError(`app ${app} has no upstream`));
  }

  waiting(app: string): WaitingInfo | undefined {
    return this.upstreams.has(app) ? { mode: 'hold' } : undefined;
  }

  publicStatus(app: string): PublicStatus | undefined {
    return this.upstreams.has(app) ? { state: 'running', ready: true } : undefined;
  }

  began(): void {}

  ended(): void {}
}
