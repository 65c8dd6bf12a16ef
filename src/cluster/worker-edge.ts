import type { SecureContext } from 'node:tls';
import { http01Answer } from '../tls/acme/http01-answer.js';
import type { Logger } from 'pino';
import type { EdgeHooks } from '../proxy/proxy-server.js';
import type { RouteMatch } from '../proxy/route-table.js';
import type { HstsSpec } from '../spec/types.js';
import { certificatePair } from '../tls/certificate-pair.js';
import { hstsValue, httpsRedirect } from '../tls/edge-policy.js';
import { SniIndex } from '../tls/sni-index.js';
import type { EdgeSnapshot, RouteEntry } from './state-feed.js';

/**
 * A proxy worker's HTTPS edge: what the control's TlsEdge decides, served from
 * its snapshots. Secure contexts are made here (they cannot cross processes)
 * and kept per PEM pair, so a snapshot that only adds a challenge or renews
 * one certificate makes no other context again.
 */
export class WorkerEdge implements EdgeHooks {
  private index = new SniIndex<SecureContext>();
  private contexts = new Map<string, SecureContext>();
  private challenges = new Map<string, string>();
  private anyToken?: string;
  private redirectAll = false;
  private tlsPort = 443;
  private hstsByApp = new Map<string, HstsSpec>();

  constructor(private readonly logger: Logger) {}

  apply(edge: EdgeSnapshot): void {
    const index = new SniIndex<SecureContext>();
    const contexts = new Map<string, SecureContext>();
    for (const pair of edge.certificates) {
      const key = pair.certPem + pair.keyPem;
      let context = this.contexts.get(key) ?? contexts.get(key);
      if (context === undefined) {
        try {
          context = certificatePair(pair.certPem, pair.keyPem, { cert: `certificate for ${pair.names.join(', ')}`, key: 'its key' }).context;
        } catch (err) {
          // The control checked it already; a pair this process cannot load leaves its names without a certificate here only.
          this.logger.error({ err: (err as Error).message, names: pair.names }, 'a certificate from the control cannot be served');
          continue;
        }
      }
      contexts.set(key, context);
      index.add(pair.names, context);
    }
    this.index = index;
    this.contexts = contexts;
    this.challenges = new Map(edge.challenges);
    this.anyToken = edge.anyToken;
    this.redirectAll = edge.redirect;
    this.tlsPort = edge.tlsPort;
  }

  setRoutes(routes: readonly RouteEntry[]): void {
    this.hstsByApp = new Map(routes.flatMap((r) => (r.hsts ? [[r.app, r.hsts] as const] : [])));
  }

  contextFor(serverName: string): SecureContext | undefined {
    return this.index.lookup(serverName);
  }

  challenge(token: string): string | undefined {
    return http01Answer(token, this.challenges, this.anyToken);
  }

  redirect(match: RouteMatch, target: string): string | undefined {
    return httpsRedirect(match, target, this.redirectAll, this.tlsPort);
  }

  hsts(app: string): string | undefined {
    const hsts = this.hstsByApp.get(app);
    return hsts && hstsValue(hsts);
  }
}
