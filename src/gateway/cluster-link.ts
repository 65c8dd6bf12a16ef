import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Accountant } from '../accounting/accountant.js';
import type { Activator } from '../activator/activator.js';
import type { AppStatus } from '../activator/app-status.js';
import { activatorCalls } from '../cluster/activity-table.js';
import { GatewayCluster } from '../cluster/gateways/gateway-cluster.js';
import type { GatewayInfo } from '../cluster/gateways/gateway-registry.js';
import type { GatewayConfig } from '../config/config.js';
import { messageOf } from '../errors.js';
import type { AppSpec } from '../spec/types.js';
import type { Store, StoredApp } from '../store/store.js';
import { VERSION } from '../version.js';

/** How often a gateway on a shared store compares its desired state with the store's, behind the notices. */
const DESIRED_RESYNC_MS = 5_000;

export interface ClusterLinkDeps {
  config: GatewayConfig;
  logger: Logger;
  gatewayId: string;
  startedAt: Date;
  store: Store;
  /** The proxy's and admin API's addresses, once listening. */
  addresses: () => { proxy?: AddressInfo; admin?: AddressInfo };
  activator: () => Activator | undefined;
  accountant: () => Accountant | undefined;
  statuses: () => AppStatus[];
  /** The desired specs this gateway routes now. */
  specs: () => ReadonlyMap<string, AppSpec>;
  /** The replica counts `berth scale` kept, by app (DesiredIndex.replicas). */
  replicas: () => ReadonlyMap<string, number>;
  /** Reads these apps (undefined: all) again from the store and follows them, one change at a time with the others. */
  follow: (apps: string[] | undefined) => Promise<void>;
  /** With proxy workers: their barrier for `app` (see ClusterHost.quiesceLocal), and a hold's end pushed to them. */
  workers?: () => { fence(app: string): Promise<void>; appChanged(app: string): void; tunnelsGoAway(app: string): void } | undefined;
}

/**
 * The gateway's side of several gateways on one store: builds the cluster
 * (cluster/gateways) and answers it: other gateways' changes are followed,
 * their activity reaches the activator's idle clocks, a new leader reconciles
 * everything, and every few seconds the store's desired state is compared with
 * this gateway's, for the notices that were lost.
 */
export class ClusterLink {
  readonly cluster: GatewayCluster;
  /** Start-up is over: changes and leadership act from now on (the first reconcile covers what came before). */
  private ready = false;
  private timer?: NodeJS.Timeout;

  constructor(private readonly deps: ClusterLinkDeps) {
    const address = (a: AddressInfo | undefined, fallback: { host: string; port: number }) => (a ? `${a.address}:${a.port}` : `${fallback.host}:${fallback.port}`);
    this.cluster = new GatewayCluster({
      url: deps.config.store,
      logger: deps.logger,
      self: () => ({
        id: deps.gatewayId,
        proxyAddress: address(deps.addresses().proxy, deps.config.listen),
        adminAddress: address(deps.addresses().admin, deps.config.admin),
        version: VERSION,
        startedAtMs: deps.startedAt.getTime(),
      }),
      host: {
        statuses: deps.statuses,
        status: (app) => deps.activator()?.status(app),
        applyPeerDeltas: (deltas) => {
          for (const d of deltas) {
            const calls = activatorCalls(d);
            deps.activator()?.peerActivity(d.app, calls.began, calls.ended);
          }
        },
        desiredChanged: (apps) => this.follow(apps, 'following a change made at another gateway failed'),
        quiesceLocal: async (app) => deps.workers?.()?.fence(app),
        holdEnded: (app) => deps.workers?.()?.appChanged(app),
        leaderStopped: (app, reason, atMs) => {
          // Its drain would wait on this gateway's WebSockets (in its proxy or its workers) for its whole bound.
          deps.activator()?.leaderStopping(app);
          deps.workers?.()?.tunnelsGoAway(app);
          deps.activator()?.leaderAnnouncedStop(app, reason, atMs);
        },
        leadingChanged: (leading) => {
          if (!leading || !this.ready) return;
          deps.accountant()?.startAccruing();
          void this.takeKeptFailures();
          // The new leader reconciles everything: creates, deletes left unfinished, apps that must run.
          this.follow(undefined, 'the reconcile of a new leader failed');
        },
      },
    });
  }

  /**
   * The first reconcile is done: follow changes from now on, and compare with the store periodically.
   * `rollOut`: apps it ran at the revision an unsettled update replaced (followed-rollouts.ts), followed now.
   */
  started(rollOut: readonly string[] = []): void {
    this.ready = true;
    this.timer = setInterval(() => void this.resync(), DESIRED_RESYNC_MS);
    this.timer.unref();
    if (rollOut.length > 0) this.follow([...rollOut], 'rolling out the updates left unsettled failed');
  }

  private follow(apps: string[] | undefined, failure: string): void {
    if (!this.ready) return;
    this.deps.follow(apps).catch((err: unknown) => this.deps.logger.warn({ err: messageOf(err) }, `${failure}; the periodic resync tries again`));
  }

  /**
   * The failures the old leader kept, shown from now on as it showed them (this gateway's own view of
   * such an app was `stopped`). A store that does not answer leaves the apps as they are: logged.
   */
  private async takeKeptFailures(): Promise<void> {
    try {
      this.deps.activator()?.takeKeptFailures(await this.deps.store.appFailures());
    } catch (err) {
      this.deps.logger.warn({ err: messageOf(err) }, 'a new leader could not read the failures the old one kept; its apps show their own state');
    }
  }

  /** The store's desired state against this gateway's: any difference (or a delete left to finish, when leading) is followed. */
  private async resync(): Promise<void> {
    try {
      const stored = await this.deps.store.listApps();
      const unfinished = this.deps.activator()?.acting === true && (await this.deps.store.listDeleted()).length > 0;
      if (desiredIsStale(stored, this.deps.specs(), this.deps.replicas()) || unfinished) await this.deps.follow(undefined);
    } catch (err) {
      this.deps.logger.debug({ err: messageOf(err) }, 'desired-state resync skipped (the store does not answer)');
    }
  }

  get gateways(): GatewayInfo[] {
    return this.cluster.gateways;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.cluster.close();
  }
}

/**
 * Whether the stored apps differ from the specs a gateway routes (an app more or less, any spec
 * changed, or a replica count `berth scale` kept, which changes no spec: `replicas` by app). Pure.
 */
export function desiredIsStale(stored: readonly StoredApp[], specs: ReadonlyMap<string, AppSpec>, replicas: ReadonlyMap<string, number> = new Map()): boolean {
  return stored.length !== specs.size || stored.some((a) => a.replicas !== replicas.get(a.name) || JSON.stringify(a.spec) !== JSON.stringify(specs.get(a.name)));
}
