import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Accountant } from '../accounting/accountant.js';
import { Activator } from '../activator/activator.js';
import type { AppStatus } from '../activator/app-status.js';
import type { AppDefaults } from '../activator/app-controller.js';
import { InputSource } from '../activator/input-source.js';
import { launchRefusals } from '../activator/launch-policy.js';
import { adminHostNames, isWildcardAddress } from '../api/admin-host.js';
import { AdminServer } from '../api/admin-server.js';
import { apiRoutes } from '../api/routes/index.js';
import { TokenService } from '../api/token-service.js';
import type { GatewayConfig, HostPort } from '../config/config.js';
import { loadConfig, sourcesNamedBy } from '../config/load-config.js';
import { logLevelFor, restartOnlyChanges } from '../config/reload-changes.js';
import { ConfigError, StoreError, messageOf } from '../errors.js';
import { gatewayClaims, validateAppSet } from '../spec/index.js';
import { Metrics } from '../metrics/metrics.js';
import { connectionCapWarning, currentFdLimits, defaultAdminConnectionCap, defaultConnectionCap } from '../net/fd-limit.js';
import { listenFailure } from '../net/listen-failure.js';
import { ProxyServer } from '../proxy/proxy-server.js';
import type { Runtime, RuntimeHooks } from '../runtime/runtime.js';
import { policyAllowance } from '../runtime/launch-allowance.js';
import { resolveImagePorts } from './image-ports.js';
import { HistoryBuffer } from '../store/history-buffer.js';
import { queryRedactor } from '../store/query-redaction.js';
import type { RequestRecord, Store, StoredApp } from '../store/store.js';
import { dashboardHandler } from '../ui/serve-ui.js';
import { AppService } from './app-service.js';
import { ChangeLanes } from './change-lanes.js';
import { DesiredIndex } from './desired-index.js';
import { settleFollowed, startingRevisions } from './followed-rollouts.js';
import { LastRequestKeeper } from './last-request-keeper.js';
import { FailureKeeper } from './failure-keeper.js';
import { WorkerPool } from '../cluster/worker-pool.js';
import { barrier, proxySettingsOf, routeEntriesOf } from '../cluster/gateway-workers.js';
import { RequestNotices } from './request-notices.js';
import { desiredSpecs, emptyStoreRefusal } from './desired-specs.js';
import { StateEvents } from './state-events.js';
import { hostname } from 'node:os';
import type { GatewayCluster } from '../cluster/gateways/gateway-cluster.js';
import type { ClusterLink } from './cluster-link.js';
import { gatewayIdOf } from '../cluster/gateways/gateway-id.js';
import type { GatewayInfo } from '../cluster/gateways/gateway-registry.js';
import { viewedStatus } from '../cluster/gateways/leader-status.js';
import { isPostgresUrl } from '../store/store-location.js';
import { lockStoreFile, type StoreLock } from '../store/store-lock.js';
import { VERSION } from '../version.js';
import { HttpsListener } from '../tls/https-listener.js';
import { TlsEdge, type FileCertificateView } from '../tls/tls-edge.js';
import type { UrlFacts } from '../api/app-view.js';
import { acmeAccountThumbprint } from '../tls/acme/acme-account.js';
import { AcmeManager, type AcmeCertificateView } from '../tls/acme/acme-manager.js';
import { checkCaRoot, checkTlsForStart } from '../tls/tls-restart-check.js';
import { acmeHosts } from '../tls/acme/renewal-plan.js';

export interface GatewayParts {
  logger: Logger;
  /** Builds the store for a config; injected so tests can point it at a temp dir. */
  openStore: (config: GatewayConfig) => Promise<Store>;
  /** Builds the runtime; `hooks` give it what only the running gateway knows (input URLs, current defaults). */
  runtime: (config: GatewayConfig, hooks: RuntimeHooks) => Runtime;
  /** The admin token from the environment (BERTH_ADMIN_TOKEN), if any. */
  adminToken?: string;
  /** Start even when the store file was empty while berth-managed containers exist (`serve --accept-empty-store`). */
  acceptEmptyStore?: boolean;
}

/**
 * The running gateway: config → store → reconcile with the engine → proxy and
 * admin API. Changes of desired state run in order: an API apply, delete or
 * scale after the earlier ones of the same apps (and beside other apps'), a
 * reload alone (change-lanes.ts). Reloads are transactional in Caddy's sense: the new
 * config is loaded and validated completely first; if that fails the old one
 * keeps serving.
 */
export class Gateway {
  private config?: GatewayConfig;
  private store?: Store;
  /** The SQLite store file's one-gateway lock (store-lock.ts). */
  private storeLock?: StoreLock;
  private activator?: Activator;
  private proxy?: ProxyServer;
  /** The proxy worker processes, with `workers` > 1 (then `proxy` stays unset). */
  private pool?: WorkerPool;
  private admin?: AdminServer;
  /** HTTPS at the edge (the `tls` block): certificates, challenges, redirects; and its listener. */
  private tlsEdge?: TlsEdge;
  private https?: HttpsListener;
  /** Certificates from ACME, with `tls.acme`. */
  private acme?: AcmeManager;
  private history?: HistoryBuffer;
  /** The order of desired-state changes: per app for the API's, alone for a reload (change-lanes.ts). */
  private readonly lanes = new ChangeLanes();
  /**
   * The spec sources the config file named at a refused reload (none after an applied one). A
   * spec file the new config names but that is not written yet refuses the reload; watched
   * only from the configuration in force, its creation went unseen and nothing reloaded.
   */
  private refusedSources: string[] = [];
  /** The reload waiting for its turn (not yet begun), which a reload asked for now joins. */
  private queuedReload?: Promise<ReloadOutcome>;
  /** The commit of the reload under way, if one is committing: a stop waits for it to end. */
  private committing?: Promise<ReloadOutcome>;
  /** The desired apps by name, as last stored; what the input URL serves from and an apply is validated against. */
  private readonly desired = new DesiredIndex();
  /** How many apps the gateway serves now: the config's and the API's (the start banner names the config's only). */
  get appCount(): number {
    return this.desired.specs.size;
  }
  /** Serves and signs input URLs (`input.as: url`); made once the store is open. */
  input?: InputSource;
  /** Usage accounting (container-seconds per app and day); made once the store is open. */
  accountant?: Accountant;
  /** The retry of unfinished deletes (finishDeletesLater), and its current backoff. */
  private deleteRetry?: NodeJS.Timeout;
  private deleteRetryMs = 0;
  private closed = false;
  /** Saves the apps' last request times; made after the first reconcile. */
  private lastRequestKeeper?: LastRequestKeeper;
  private failureKeeper?: FailureKeeper;
  readonly events = new StateEvents();
  private requestNotices?: RequestNotices;
  /** Prometheus metrics (GET /metrics on the admin listener), fed by the proxy and the state events. */
  readonly metrics = new Metrics({
    statuses: () => this.statuses(),
    declared: (app) => this.desired.specs.has(app),
    certificates: () => this.certificates(),
    historyDropped: () => this.history?.dropped ?? 0,
    engineUp: async () => this.runtime !== undefined && (await this.runtime.ping().then(() => true, () => false)),
  });
  readonly startedAt = new Date();
  /** The monotonic clock at construction: uptime is not the wall clock's difference, which a step back made negative. */
  private readonly startedMono = performance.now();

  /** Stopping: the listeners drain what is in flight and the gateway takes nothing new (GET /v1/health says so). */
  get draining(): boolean {
    return this.closed;
  }

  /** How long this gateway has been up. */
  get uptimeMs(): number {
    return performance.now() - this.startedMono;
  }
  /** Several gateways on one PostgreSQL store: this one's part (leader lease, heartbeats, notices); unset on SQLite. */
  cluster?: GatewayCluster;
  /** This gateway's name among several (set on a PostgreSQL store). */
  gatewayId?: string;
  /** Its link to the other gateways (followed changes, leadership, the periodic comparison); unset on SQLite. */
  private link?: ClusterLink;
  apps!: AppService;
  tokens!: TokenService;
  runtime?: Runtime;
  proxyAddress?: AddressInfo;
  /** The TLS listener's address, with a `tls` block. */
  httpsAddress?: AddressInfo;
  adminAddress?: AddressInfo;

  /** The logger's level before any config set one: what a config without `logLevel` goes back to. */
  private readonly startLogLevel: string;

  constructor(
    private readonly configFile: string,
    private readonly parts: GatewayParts,
  ) {
    this.startLogLevel = parts.logger.level;
  }

  /**
   * Starts every part, or none: when a step fails (the store, the engine, a port
   * taken), what was started is closed again (listeners, timers, the store) and the
   * error is thrown for the caller to report and exit non-zero.
   */
  async start(): Promise<void> {
    try {
      await this.startParts();
    } catch (err) {
      await this.undoStart();
      throw err;
    }
  }

  /** Closes whatever start() had opened; each part independently, so one failure does not keep the others open. */
  private async undoStart(): Promise<void> {
    const steps: Array<() => unknown> = [
      () => this.admin?.close(),
      () => this.link?.close(),
      () => this.https?.close(),
      () => this.acme?.close(),
      () => this.tlsEdge?.close(),
      () => this.proxy?.close(0),
      () => this.pool?.close(0),
      () => this.activator?.close(),
      () => this.failureKeeper?.close(),
      () => this.history?.close(),
      () => this.accountant?.close(),
      () => this.store?.close(),
      () => this.storeLock?.release(),
    ];
    for (const step of steps) {
      try {
        await step();
      } catch (err) {
        this.parts.logger.warn({ err: messageOf(err) }, 'while undoing a failed start');
      }
    }
  }

  private async startParts(): Promise<void> {
    const { logger } = this.parts;
    const config = await loadConfig(this.configFile);
    // Before anything is read or changed in it: a second gateway on a SQLite file must not touch it.
    if (!isPostgresUrl(config.store)) this.storeLock = await lockStoreFile(config.store);
    const store = await this.parts.openStore(config);
    this.store = store;
    const storeId = await store.storeId();
    const runtime = this.parts.runtime(config, {
      inputUrl: (app, json) => this.inputUrl(app, json),
      defaultResources: () => (this.config ?? config).defaults.resources,
      secretPolicy: () => (this.config ?? config).policy,
      bindMountRoots: () => (this.config ?? config).policy.bindMountRoots,
      launchPolicy: () => policyAllowance((this.config ?? config).policy),
      storeId,
      // Once at warn while the stream keeps breaking, as the resync says a failing pass: an outage must not flood the log.
      onEventStreamError: (err, retryInMs, again) => logger[again ? 'debug' : 'warn']({ err: messageOf(err), retryInMs }, 'engine event stream broke; reopening it'),
    });
    await runtime.ping();
    config.apps = await resolveImagePorts(config.apps, runtime, this.configFile);
    if (store.openedEmpty) {
      const refusal = emptyStoreRefusal(config.store, true, (await runtime.list()).map((i) => i.name), this.parts.acceptEmptyStore ?? false);
      if (refusal) throw new StoreError(refusal);
      if (this.parts.acceptEmptyStore) logger.warn({ store: config.store }, 'the store file was empty; starting with no apps as --accept-empty-store asks');
    }
    this.config = config;
    applyLogLevel(logger, config, this.startLogLevel);
    this.runtime = runtime;
    const inputSecret = await store.getOrCreateSecret('input');
    this.input = new InputSource(inputSecret, () => this.desired.specs);
    const clustered = isPostgresUrl(config.store);
    if (clustered) {
      this.gatewayId = gatewayIdOf(config.gatewayId, process.env.BERTH_GATEWAY_ID, hostname(), config.listen.port, process.pid);
      // The PostgreSQL client (pg) is loaded by a clustered gateway alone: ~0.5 s of every other start on a busy machine.
      const { PostgresStore } = await import('../store/postgres-store.js');
      if (store instanceof PostgresStore) store.gatewayId = this.gatewayId;
    } else {
      // API applies a killed gateway never finished (nor answered) were never desired: the rows they replaced come
      // back and the apps they created go, so a set is undone whole. (On a shared store another gateway's apply may
      // be under way: the rows stay as they are.)
      const reverted = await store.revertUnsettled();
      if (reverted.length > 0) logger.warn({ apps: reverted }, 'updates left unfinished by the last stop were not kept; the previous revisions stand, apps they created are gone');
    }
    const { desired, removed } = await syncConfigApps(store, config);
    // The config may have narrowed the policy while the gateway was down; the config's own apps were checked at load.
    warnPolicyRefused(logger, launchRefusals(desired.filter((a) => a.source === 'api').map((a) => a.spec), config.policy), 'the policy');
    // Deletes a previous run did not finish (killed before the containers were gone).
    const pending = (await store.listDeleted()).filter((d) => !removed.includes(d.name));
    this.desired.reset(desired);
    this.link = clustered
      ? new (await import('./cluster-link.js')).ClusterLink({
          config,
          logger,
          gatewayId: this.gatewayId!,
          startedAt: this.startedAt,
          store,
          addresses: () => ({ proxy: this.proxyAddress, admin: this.adminAddress }),
          activator: () => this.activator,
          accountant: () => this.accountant,
          statuses: () => this.statuses(),
          specs: () => this.desired.specs,
          replicas: () => this.desired.replicas,
          // A change of some apps at another gateway is followed in their order only; a whole comparison alone.
          follow: (apps) => {
            const follow = async () => {
              await this.desiredChanged([], {}, apps, false);
              await this.settleFollowed(apps);
            };
            return apps ? this.lanes.forApps(apps, follow) : this.serialize(follow);
          },
          workers: () => this.pool?.feed,
        })
      : undefined;
    const cluster = this.link?.cluster;
    this.cluster = cluster;
    const accountant = new Accountant({ store, logger, maxAgeMs: config.usage.maxAgeMs, statuses: () => this.statuses(), status: (app) => this.activator?.status(app), ...(cluster ? { accrues: () => cluster.leading } : {}) });
    this.accountant = accountant;
    accountant.start(this.events);
    this.metrics.follow(this.events);
    const lastRequests = await store.lastRequests();
    // Read after the config's apps were written: a spec changed while the gateway was down has its failure forgotten.
    const failures = await store.appFailures();
    const failureKeeper = (this.failureKeeper = new FailureKeeper({ store, saved: failures.keys(), logger, ...(cluster ? { acts: () => cluster.leading } : {}) }));
    const activator = new Activator({
      runtime,
      logger,
      lastRequests,
      failures,
      keepFailure: (app, failure) => failureKeeper.keep(app, failure),
      storeId,
      resyncEveryMs: config.resyncMs,
      createAhead: () => (this.config ?? config).createAhead,
      startLimits: { concurrentStarts: config.limits.concurrentStarts, startSlotHoldMs: config.limits.startSlotHoldMs, ...(config.limits.runningApps === undefined ? {} : { runningApps: config.limits.runningApps }) },
      concurrentIdleStops: config.limits.concurrentIdleStops,
      input: this.input,
      defaults: defaultsOf(config),
      onChange: (status) => {
        logStatus(logger, status);
        this.events.publish({ type: 'state', app: status.name, time: new Date(), status });
        this.pool?.feed.appChanged(status.name);
        // Several gateways: the others see this stop only as exits; told first, they show it as this one does.
        if (cluster && status.state === 'stopping') cluster.announceStop(status.name, status.reason ?? 'stopped');
      },
      // With proxy workers: instance changes are pushed to them. Idle stops and drains wait for the workers' and the other gateways' reports.
      ...(config.workers > 1 ? { onReadyChange: (app: string) => this.pool?.feed.appChanged(app) } : {}),
      ...(config.workers > 1 || cluster ? { quiesce: (app: string) => barrier(app, this.pool?.feed, cluster) } : {}),
      // Several gateways: only the leader acts; starts and idle stops take the app's lease; the leader's fence holds requests.
      ...(cluster
        ? {
            acts: () => cluster.leading,
            lease: <T>(app: string, waitMs: number, work: (letGo?: () => void) => Promise<T>) => cluster.leases.hold(app, waitMs, work),
            declared: async (app: string) => (await store.getApp(app)) !== undefined,
            heldFor: (app: string) => cluster.holds.heldFor(app),
            leaderStopped: (app: string, sinceMs: number) => cluster.leaderStops.stoppedSince(app, sinceMs, Date.now()),
            onActivity: (app: string, began: boolean) => (began ? cluster.local.began(app) : cluster.local.ended(app)),
          }
        : {}),
    });
    this.activator = activator;
    activator.start();
    // Routed from the moment the listeners are up; declared once the first reconcile begins, after them.
    let reconcileBegun!: () => void;
    activator.holdUndeclared(new Promise<void>((resolve) => (reconcileBegun = resolve)));
    // Registered and trying the lock from here; the first reconcile only follows (adopts) until this gateway leads,
    // and the one it runs as the new leader (leadingChanged) creates, starts and removes.
    await cluster?.start();
    const notices = (this.requestNotices = new RequestNotices(this.events));
    this.history = new HistoryBuffer({ store, retention: config.history, logger, onWritten: (batch) => notices.written(batch.app), redactTarget: queryRedactor(config.history) });
    this.history.start();
    const history = this.history;
    const metrics = this.metrics;
    const onRequestDone = (record: RequestRecord) => {
      history.record(record);
      metrics.requestDone(record);
      accountant.request(record.app, record.timeMs);
    };
    const openFiles = currentFdLimits()?.soft;
    // The TLS listener has a cap of its own: by default the two share the descriptors.
    const listeners = config.tls ? 2 : 1;
    const maxConnections = config.limits.connections ?? defaultConnectionCap(openFiles, listeners);
    const capTooHigh = connectionCapWarning(maxConnections, openFiles, listeners);
    if (capTooHigh) logger.warn({ connections: maxConnections, openFiles }, capTooHigh);
    if (config.workers > 1) {
      this.pool = new WorkerPool({
        count: config.workers,
        activator,
        logger,
        settings: () => proxySettingsOf(this.config ?? config, inputSecret, maxConnections, logger.level),
        onRecords: (records) => records.forEach(onRequestDone),
        registry: metrics.registry,
        // Several gateways: an app the leader fenced is held here, and the workers must not admit it by themselves meanwhile.
        ...(cluster ? { held: (app: string) => cluster.holds.isHeld(app) } : {}),
      });
      this.pool.feed.publishRoutes(routeEntriesOf(this.desired.specs.values()));
    } else this.proxy = new ProxyServer({
      routes: this.desired.routeTable(),
      upstreams: activator,
      trustedProxies: config.trustedProxies,
      maxRequestHeaders: config.limits.requestHeaders,
      timeouts: config.timeouts,
      appTimeouts: (app) => this.desired.specs.get(app)?.timeouts,
      maxConnections,
      ...(config.limits.connectionsPerClient !== undefined ? { maxConnectionsPerClient: config.limits.connectionsPerClient } : {}),
      waitingPageHtml: () => (this.config ?? config).waitingPage.html,
      logger,
      onRequestDone,
    });
    if (config.tls) {
      const tls = config.tls;
      const pool = this.pool;
      const edge = new TlsEdge(tls, {
        logger,
        specs: () => this.desired.specs,
        tlsPort: () => this.httpsAddress?.port ?? tls.listen.port,
        // Proxy workers serve HTTPS themselves: each change of the edge goes to them.
        ...(pool ? { changed: () => void this.publishEdge() } : {}),
      });
      this.tlsEdge = edge;
      await edge.loadFiles(tls);
      this.proxy?.setEdge(edge);
      // A wrong caRoot fails the start, naming it, rather than each order later.
      await checkCaRoot(tls);
      if (tls.acme) {
        const manager = new AcmeManager({
          config: tls.acme,
          store,
          logger,
          challenges: edge.challenges,
          hosts: () => acmeHosts(this.desired.specs.values()),
          coveredByFile: (host) => edge.coveredByFile(host),
          changed: () => edge.rebuild(),
          ...(pool ? { challengesPublished: () => this.publishEdge() } : {}),
          // Several gateways: the leader orders (a new leader's reconcile checks at once, via hostsChanged).
          ...(cluster ? { orders: () => cluster.leading } : {}),
        });
        this.acme = manager;
        edge.setAcmeSource(() => manager.certificates());
        // Only the leader orders; the CA may ask any gateway for the challenge.
        if (cluster) edge.answerAnyToken(await acmeAccountThumbprint(store));
      }
      if (this.proxy) this.https = new HttpsListener({ proxy: this.proxy, contextFor: (name) => edge.contextFor(name), logger, headersTimeoutMs: config.timeouts.clientHeaderMs, maxConnections, maxRequestHeaders: config.limits.requestHeaders });
    }
    this.apps = new AppService({
      store,
      runtime,
      activator,
      events: this.events,
      config: () => this.config!,
      serialize: (change, apps) => (apps ? this.lanes.forApps(apps, change) : this.serialize(change)),
      commit: (section) => this.lanes.commit(section),
      desiredChanged: async (names, options, changed) => void (await this.desiredChanged(names, options, changed)),
      desired: this.desired,
      announce: (apps) => cluster?.announce(apps),
      ...(cluster ? { acts: () => cluster.leading } : {}),
      ...(cluster ? { viewStatus: (name: string) => viewedStatus(activator.status(name), cluster.leaderStates.get(name), cluster.leading) } : {}),
    });
    this.tokens = new TokenService(store, this.parts.adminToken, logger);
    await this.tokens.bootstrap(config.stateDir);
    this.admin = new AdminServer({
      gateway: this,
      tokens: this.tokens,
      routes: apiRoutes,
      logger,
      fallback: dashboardHandler(),
      maxConnections: defaultAdminConnectionCap(openFiles),
      bindHost: config.admin.host,
      allowedHosts: () => adminHostNames(config.admin.host, (this.config ?? config).adminHosts),
    });
    this.adminAddress = await listening('admin', config.admin, (at) => this.admin!.listen(at.host, at.port));
    if (isWildcardAddress(config.admin.host) && config.adminHosts.length === 0) {
      logger.warn({ admin: config.admin.host }, 'the admin listener binds to every address but answers only loopback names (421 otherwise); list the names clients use in adminHosts');
    }
    if (this.pool) {
      this.proxyAddress = await this.pool.listen(config.listen.host, config.listen.port, config.tls?.listen);
      this.httpsAddress = this.pool.tlsAddress;
      // Now with the TLS port the workers bound (redirects point there).
      await this.publishEdge();
    } else {
      this.proxyAddress = await listening('listen', config.listen, (at) => this.proxy!.listen(at.host, at.port));
      if (this.https) this.httpsAddress = await listening('tls.listen', config.tls!.listen, (at) => this.https!.listen(at.host, at.port));
    }
    if (this.httpsAddress) logger.info({ https: `${this.httpsAddress.address}:${this.httpsAddress.port}` }, 'HTTPS listening');
    // Once the plain listener is up: HTTP-01 challenges are answered there.
    await this.acme?.start();
    if (this.pool) logger.info({ workers: config.workers, pids: this.pool.pids }, 'proxy workers listening');
    logger.info({ listen: `${this.proxyAddress.address}:${this.proxyAddress.port}`, admin: `${this.adminAddress.address}:${this.adminAddress.port}`, apps: desired.length }, 'gateway listening');
    const deleted = await store.listDeleted();
    if (pending.length > 0) logger.info({ apps: pending.map((d) => d.name) }, 'finishing deletes interrupted by the last stop');
    // Several gateways: an unsettled update whose old revision still runs is rolled out from it after this reconcile.
    const replaced = clustered ? await store.replacedUnsettled() : [];
    const { apps: starting, rollOut } = replaced.length > 0 ? startingRevisions(desired, replaced, await runtime.list()) : { apps: desired, rollOut: [] };
    const reconciled = activator.reconcile(desiredSpecs(starting), deleted);
    reconcileBegun();
    const failed = await reconciled;
    activator.dropRestoredLastRequests();
    await this.forgetDeleted(deleted.map((d) => d.name), failed);
    if (failed.length > 0) this.finishDeletesLater();
    accountant.settle();
    // From here: before the first reconcile there are no controllers, and the saved times would all look deleted.
    this.lastRequestKeeper = new LastRequestKeeper({ store, saved: lastRequests, current: () => activator.lastRequests(), logger, ...(cluster ? { acts: () => cluster.leading } : {}) });
    this.lastRequestKeeper.start();
    this.link?.started(rollOut);
  }

  /** Every gateway on the store (just this one on SQLite), for GET /v1/gateways. */
  gateways(): GatewayInfo[] {
    if (this.link) return this.link.gateways;
    const address = (a?: AddressInfo) => (a ? `${a.address}:${a.port}` : '');
    return [{ id: this.gatewayId ?? 'local', proxyAddress: address(this.proxyAddress), adminAddress: address(this.adminAddress), version: VERSION, startedAt: this.startedAt, lastHeartbeat: new Date(), leader: true, alive: true, activity: [] }];
  }

  /** Drops the tombstones of deleted apps whose containers are gone; the others are retried at the next reconcile or start. */
  private async forgetDeleted(names: readonly string[], failed: readonly string[]): Promise<void> {
    // Only the gateway that acts removed the containers; the tombstones stay for it otherwise.
    if (this.activator && !this.activator.acting) return;
    for (const name of names.filter((n) => !failed.includes(n))) await this.store!.forgetDeleted(name);
  }

  /**
   * Re-reads the config and spec files and applies the difference. Never rejects:
   * it runs from SIGHUP and file watches, where a rejection would end the process.
   */
  reload(): Promise<ReloadOutcome> {
    // One asked for while another still waits its turn joins that one: it reads the files
    // when it begins, after this ask. Queued each, a SIGHUP storm (or a loop of `kill -HUP`)
    // ran one full reload per signal, every API apply and delete waiting behind them all.
    if (this.queuedReload) return this.queuedReload;
    const queued = this.serialize(() => {
      this.queuedReload = undefined;
      return this.reloadNow();
    });
    this.queuedReload = queued;
    return queued;
  }

  /** Runs a change of the whole configuration alone, after every change asked for before it. */
  private serialize<T>(change: () => Promise<T>): Promise<T> {
    return this.lanes.whole(change);
  }

  private async reloadNow(): Promise<ReloadOutcome> {
    const { logger } = this.parts;
    const store = this.store;
    const previous = this.config;
    if (!store || !this.activator || !previous) return { applied: false, error: 'the gateway has not started', restartNeeded: [] };
    // A SIGHUP racing a stop: applied now, it would start or remove containers while the gateway drains, then meet a closed store.
    if (this.closed) return { applied: false, error: 'the gateway is shutting down', restartNeeded: [] };
    let config: GatewayConfig;
    let restartNeeded: string[];
    let policyRefused: Array<{ app: string; reason: string }>;
    let serveFiles: (() => void) | undefined;
    try {
      config = await loadConfig(this.configFile, previous);
      config.apps = await resolveImagePorts(config.apps, this.runtime!, this.configFile);
      // The complete new snapshot (the config's apps, and the API's apps it does not
      // name) is checked as a set before anything is committed: a config app whose
      // route collides with an API app's is refused here, not half-applied.
      const configNames = new Set(config.apps.map((a) => a.name));
      const apiApps = (await store.listApps()).filter((a) => a.source === 'api' && !configNames.has(a.name)).map((a) => a.spec);
      validateAppSet([...config.apps, ...apiApps], config.policy, config.limits, gatewayClaims(config), configNames);
      // The API's apps are not the config's to refuse; those the new policy denies are named below.
      policyRefused = launchRefusals(apiApps, config.policy);
      // Certificate files are checked before anything changes: a bad pair refuses the reload.
      // They are served once the reload commits (below), not before: a store failing refuses it too.
      if (config.tls && this.tlsEdge) serveFiles = await this.tlsEdge.prepareFiles(config.tls);
      // A tls block the gateway did not start with is served only from the next start: checked now as that start
      // will check it, so a bad file refuses this reload rather than failing the restart (restartNeeded names tls).
      else if (config.tls) await checkTlsForStart(config.tls, logger);
      if (config.tls?.acme?.caRoot && this.tlsEdge && config.tls.acme.caRoot !== previous.tls?.acme?.caRoot) await checkCaRoot(config.tls);
      restartNeeded = restartOnlyChanges(previous, config);
    } catch (err) {
      logger.error({ err: messageOf(err) }, 'reload refused, the previous configuration keeps serving');
      this.refusedSources = await sourcesNamedBy(this.configFile);
      return { applied: false, error: messageOf(err), restartNeeded: [] };
    }
    // Asked again: reading the files and the store takes a while, and a stop that came meanwhile
    // found this reload under way (checked only before it, it committed and reconciled through the drain).
    if (this.closed) return { applied: false, error: 'the gateway is shutting down', restartNeeded: [] };
    // From here the reload commits whole: a stop that comes now waits for it (close), as no await lies between
    // the check above and this. Cut short, its store transaction stood but the engine was never brought in line
    // (an app it removed kept its containers and its tombstone until the next start).
    const commit = this.commitReload({ store, activator: this.activator, previous, config, restartNeeded, policyRefused, ...(serveFiles ? { serveFiles } : {}) });
    this.committing = commit;
    try {
      return await commit;
    } finally {
      this.committing = undefined;
    }
  }

  /** Commits a reload checked whole (reloadNow): the store first (one transaction), then config, defaults, routes and the engine. */
  private async commitReload(prepared: PreparedReload): Promise<ReloadOutcome> {
    const { logger } = this.parts;
    const { store, activator, previous, config, restartNeeded, policyRefused, serveFiles } = prepared;
    let removed: string[];
    try {
      ({ removed } = await syncConfigApps(store, config));
    } catch (err) {
      // The transaction did not commit: nothing changed, the old configuration serves on.
      logger.error({ err: messageOf(err) }, 'reload failed writing the store, the previous configuration keeps serving');
      return { applied: false, error: messageOf(err), restartNeeded: [] };
    }
    serveFiles?.();
    this.refusedSources = [];
    // Start-only settings keep their start values, so what the gateway reports stays true.
    this.config = restartNeeded.length > 0 ? keepStartOnly(previous, config) : config;
    applyLogLevel(logger, config, this.startLogLevel);
    this.pool?.settingsChanged();
    activator.setDefaults(defaultsOf(config));
    warnPolicyRefused(logger, policyRefused, 'the reloaded policy');
    if (restartNeeded.length > 0) {
      logger.warn({ fields: restartNeeded }, `changed in the config but read only at start, these keep their old values until the next start: ${restartNeeded.join(', ')}`);
      if (restartNeeded.includes('tls') && config.tls && !this.tlsEdge) logger.warn({ certificates: config.tls.certificates.length }, 'the tls block was checked (its certificate files load and match): HTTPS is served from the next start, not before');
    }
    let removalsPending: string[];
    const before = [...this.desired.specs.keys()];
    try {
      removalsPending = await this.desiredChanged(removed);
    } catch (err) {
      // A reload is not taken back: the apps it removed are deleted now, whether or not the
      // engine answered. They are let go and told as deleted, so what berth shows and
      // counts matches; their containers go once the engine answers (finishDeletesLater).
      await activator.release(removed.filter((name) => !this.desired.specs.has(name)));
      this.toldDeleted(before);
      // Stored and routed; the apps that left are deleted (and told so), their containers go when the engine answers.
      const pending = removed.length > 0 ? { removalsPending: removed } : {};
      logger.error({ err: messageOf(err), ...pending }, 'reload stored, but bringing the engine in line failed; the apps it removed have their containers removed once the engine answers, the others at the next reconcile');
      return { applied: true, error: messageOf(err), restartNeeded, policyRefused, ...pending };
    }
    if (removalsPending.length > 0) logger.warn({ apps: removalsPending }, 'reload applied, but some removed apps still have containers; their removal is retried');
    logger.info({ apps: config.apps.length, removed }, 'configuration reloaded');
    return { applied: true, restartNeeded, policyRefused, ...(removalsPending.length > 0 ? { removalsPending } : {}) };
  }

  /** Leading: settles the updates the follow just rolled out, and puts back those it rolled back (followed-rollouts.ts). */
  private async settleFollowed(apps: readonly string[] | undefined): Promise<void> {
    if (!this.cluster?.leading) return;
    const store = this.store!;
    const stored = apps ? (await Promise.all(apps.map((name) => store.getApp(name)))).filter((a): a is StoredApp => a !== undefined) : await store.listApps();
    const reverted = await settleFollowed(store, stored, (name) => this.activator?.controller(name)?.spec, this.parts.logger);
    // Read back and announced: every gateway routes and shows the revision that serves.
    if (reverted.length > 0) await this.desiredChanged([], {}, reverted);
  }

  /**
   * After desired state changed: new routes for new requests, then the engine
   * brought in line. Deleted apps (tombstones, `removed` among them) lose their
   * containers; a tombstone is dropped once they are gone. With `changed` (an API
   * apply or delete), only those apps changed besides `removed`: only they are read
   * back and reconciled, so the cost does not grow with the apps already stored.
   * Without it (a reload), every app is.
   */
  private async desiredChanged(removed: string[], options: { purgeVolumes?: boolean } = {}, changed?: readonly string[], announce = true): Promise<string[]> {
    const store = this.store!;
    // The other gateways are told as soon as the store has it: they route it within a notice's delay.
    if (announce) this.cluster?.announce(changed ? [...changed, ...removed] : undefined);
    const before = [...this.desired.specs.keys()];
    let desired: StoredApp[];
    // Changed apps the store no longer has: deleted, perhaps with their tombstone already dropped.
    const vanished: string[] = [];
    if (changed) {
      desired = [];
      for (const name of changed) {
        const app = await store.getApp(name);
        if (app) desired.push(app);
        else {
          this.desired.delete(name);
          vanished.push(name);
        }
      }
      for (const name of removed) this.desired.delete(name);
      for (const app of desired) this.desired.set(app.spec, app.replicas);
    } else {
      desired = await store.listApps();
      this.desired.reset(desired);
    }
    this.proxy?.setRoutes(this.desired.routeTable());
    this.acme?.hostsChanged();
    this.pool?.feed.publishRoutes(routeEntriesOf(this.desired.specs.values()));
    // Scoped, only this change's tombstones: another app's delete may be under way beside this change, in its own lane,
    // and removing its containers is its own (a delete left unfinished is retried by finishDeletesLater).
    const ours = changed ? new Set([...changed, ...removed]) : undefined;
    const deleted = (await store.listDeleted()).filter((d) => !ours || ours.has(d.name)).map((d) => (removed.includes(d.name) && options.purgeVolumes ? { ...d, purgeVolumes: true } : d));
    // A delete at another gateway is announced, and that gateway (leading) removes the containers and drops the
    // tombstone at once: this one may read the store after that, and find neither the app nor its tombstone.
    // The app is gone all the same; without this its controller stayed, a cold start it had under way went on,
    // and the container it made ran on with no app in the store and no gateway that would ever stop it.
    const tombstones = new Set(deleted.map((d) => d.name));
    const gone = [...deleted, ...vanished.filter((name) => !tombstones.has(name)).map((name) => ({ name, purgeVolumes: false }))];
    let failed: string[];
    try {
      failed = await this.activator!.reconcile(desiredSpecs(desired), gone, { scoped: changed !== undefined });
    } catch (err) {
      // The engine could not be brought in line (it is down, say): the deletes are finished later, or nothing would.
      if (deleted.length > 0) this.finishDeletesLater();
      throw err;
    }
    await this.forgetDeleted(deleted.map((d) => d.name), failed);
    if (failed.length > 0) this.finishDeletesLater();
    this.toldDeleted(ours ? before.filter((app) => ours.has(app)) : before);
    return failed;
  }

  /**
   * Told whichever way an app left (an API delete, a reload that no longer declares
   * it, a delete at another gateway): the metrics and the accounting drop what they
   * hold of it on this event, and the event streams tell the dashboard.
   */
  private toldDeleted(before: readonly string[]): void {
    const time = new Date();
    for (const app of before) if (!this.desired.specs.has(app)) this.events.publish({ type: 'deleted', app, time });
  }

  /**
   * Deletes whose containers could not all be removed (the engine down or failing)
   * are tried again, backing off from 1 s to a minute, until no tombstone is left:
   * otherwise only the next reload, change of the same app, or start would.
   */
  private finishDeletesLater(): void {
    if (this.deleteRetry || this.closed) return;
    this.deleteRetryMs = Math.min(Math.max(this.deleteRetryMs * 2, 1_000), 60_000);
    this.deleteRetry = setTimeout(() => {
      this.deleteRetry = undefined;
      void this.finishDeletes();
    }, this.deleteRetryMs);
    this.deleteRetry.unref();
  }

  /**
   * The retry, in the order of the deleted apps' changes only: a removal that hangs on one
   * app's container (an engine that answers for it slowly) holds no change of any other app.
   */
  private async finishDeletes(): Promise<void> {
    if (this.closed || !this.store || !this.activator) return;
    try {
      const names = new Set((await this.store.listDeleted()).map((d) => d.name));
      await this.lanes.forApps(names, () => this.finishDeletesOf(names));
    } catch (err) {
      this.parts.logger.warn({ err: messageOf(err) }, 'finishing deletes failed; tried again');
      this.finishDeletesLater();
    }
  }

  private async finishDeletesOf(names: ReadonlySet<string>): Promise<void> {
    if (this.closed || !this.store || !this.activator) return;
    try {
      // Read again in their turn: a change of one of them may have finished its delete (or created the app anew) meanwhile.
      const deleted = (await this.store.listDeleted()).filter((d) => names.has(d.name));
      const failed = deleted.length === 0 ? [] : await this.activator.reconcile([], deleted, { scoped: true });
      await this.forgetDeleted(deleted.map((d) => d.name), failed);
      if (failed.length > 0) return this.finishDeletesLater();
      if (deleted.length > 0) this.parts.logger.info({ apps: deleted.map((d) => d.name) }, 'deletes finished: their containers are gone');
      this.deleteRetryMs = 0;
    } catch (err) {
      this.parts.logger.warn({ err: messageOf(err) }, 'finishing deletes failed; tried again');
      this.finishDeletesLater();
    }
  }

  /**
   * The URL a container fetches its input from: `inputBaseUrl`, by default the
   * proxy's port on host.docker.internal (mapped to the docker bridge's gateway).
   * A container reaches it only when the proxy listens where containers can
   * connect (the bridge address, or 0.0.0.0), not on berth's default 127.0.0.1.
   * Asked at container create, which happens only after the proxy listens.
   */
  private inputUrl(app: string, json: string): string {
    if (!this.input || !this.config) throw new Error('the gateway has not opened its store yet: no input URL');
    const base = this.config.inputBaseUrl ?? `http://host.docker.internal:${this.proxyAddress?.port ?? this.config.listen.port}`;
    return this.input.url(base, app, json);
  }

  /** Every certificate served over HTTPS: from files, and per ACME host with its order state. */
  certificates(): Array<FileCertificateView | AcmeCertificateView> {
    return [...(this.tlsEdge?.fileViews() ?? []), ...(this.acme?.views() ?? [])];
  }

  /** Whether HTTPS is configured at all (the API answers 404 for certificates otherwise). */
  get tlsEnabled(): boolean {
    return this.tlsEdge !== undefined;
  }

  /** Proxy workers (with a `tls` block) get the edge as it is now; resolves once each serves it. */
  private publishEdge(): Promise<void> {
    return this.pool && this.tlsEdge ? this.pool.publishEdge(this.tlsEdge.snapshot()) : Promise.resolve();
  }

  statuses(): AppStatus[] {
    return this.activator?.statuses() ?? [];
  }

  /** Where URLs shown to users point: the proxy, or HTTPS where plain HTTP only redirects (the tls block as now loaded). */
  get urlFacts(): UrlFacts {
    const tls = this.config?.tls;
    return {
      ...(this.proxyAddress ? { proxy: this.proxyAddress } : {}),
      ...(this.httpsAddress && tls ? { https: this.httpsAddress, redirect: tls.redirect } : {}),
      ...(tls?.redirectPort !== undefined ? { redirectPort: tls.redirectPort } : {}),
    };
  }

  get currentConfig(): GatewayConfig | undefined {
    return this.config;
  }

  /**
   * The files a watch reloads on: the config file and the spec sources of the configuration
   * in force, and those the config file named at the last reload if that one was refused.
   */
  get watchedSources(): string[] {
    if (!this.config?.file) return [];
    const inForce = [this.config.file, ...this.config.appSources];
    return [...inForce, ...this.refusedSources.filter((s) => !inForce.includes(s))];
  }

  /** Stops accepting, lets requests in flight finish, and leaves containers as they are. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.deleteRetry);
    // A reload that had begun committing ends first: what it wrote to the store is brought to the engine and its
    // tombstones dropped, rather than half of it left for the next start. Reloads not yet committing see `closed`
    // and are refused. (Its outcome, failed or not, is the reload's to tell.)
    await this.committing?.catch(() => undefined);
    // Leadership is given up first, so another gateway takes over while this one drains.
    await this.link?.close();
    this.https?.stopAccepting();
    await this.proxy?.close(this.config?.drainTimeoutMs);
    await this.https?.close();
    await this.acme?.close();
    this.tlsEdge?.close();
    await this.pool?.close(this.config?.drainTimeoutMs);
    // Last of the listeners, as Envoy and Traefik keep theirs: through the drain /v1/health answers
    // 503 `draining`, so a readiness probe (Kubernetes, a load balancer) sends new traffic elsewhere;
    // closed first, the probe saw only refused connections, the same as a crashed gateway.
    await this.admin?.close();
    // After the drain, so the requests that just ended are in it.
    await this.lastRequestKeeper?.close();
    this.activator?.close();
    // The failures reported until now are in the store before it closes.
    await this.failureKeeper?.close();
    await this.history?.close();
    this.requestNotices?.close();
    await this.accountant?.close();
    await this.store?.close();
    await this.storeLock?.release();
  }
}

/**
 * Writes the config's apps to the store in one transaction and returns the
 * desired set; config apps that left the config are deleted. Apps created
 * through the API are left alone.
 */
async function syncConfigApps(store: Store, config: GatewayConfig): Promise<{ desired: StoredApp[]; removed: string[] }> {
  const declared = new Set(config.apps.map((a) => a.name));
  const before = await store.listApps();
  const removed = before.filter((a) => a.source === 'config' && !declared.has(a.name)).map((a) => a.name);
  await store.applyApps(config.apps, 'config', removed);
  return { desired: await store.listApps(), removed };
}

/** What a reload did: applied or refused (with why), and the changed settings only a restart applies. */
export interface ReloadOutcome {
  applied: boolean;
  error?: string;
  restartNeeded: string[];
  /**
   * API apps the reloaded policy refuses, each with why (an applied reload only). They
   * stay declared and their running containers run on until stopped; no new one is made.
   */
  policyRefused?: Array<{ app: string; reason: string }>;
  /**
   * Apps the reload removed whose containers are not all gone yet (the engine was
   * down or failed): deleted all the same (no longer declared, routed or listed; a
   * `deleted` event was sent), their containers are removed once the engine answers.
   */
  removalsPending?: string[];
}

/** A reload checked whole and not yet committed: what its commit needs (Gateway.commitReload). */
interface PreparedReload {
  store: Store;
  activator: Activator;
  previous: GatewayConfig;
  config: GatewayConfig;
  restartNeeded: string[];
  policyRefused: Array<{ app: string; reason: string }>;
  /** Serves the reload's certificate files; called once the store committed. */
  serveFiles?: () => void;
}

/** Opens the listener of config key `key`; a refusal (a port in use, an address not on this host) names the key. */
async function listening<T>(key: string, at: HostPort, open: (at: HostPort) => Promise<T>): Promise<T> {
  try {
    return await open(at);
  } catch (err) {
    throw listenFailure(key, at.host, at.port, err);
  }
}

/** The new config with the settings read only at start as they were at start. Pure. */
function keepStartOnly(previous: GatewayConfig, next: GatewayConfig): GatewayConfig {
  const { listen, admin, store, stateDir, runtime, docker, swarm, upstreamHost, publishHost, appsNetwork, workers, limits, timeouts, trustedProxies, resyncMs, gatewayId, history, tls } = previous;
  const kept: GatewayConfig = { ...next, listen, admin, store, stateDir, runtime, swarm, appsNetwork, workers, limits, timeouts, trustedProxies, resyncMs, history, usage: previous.usage };
  for (const [key, value] of Object.entries({ docker, upstreamHost, publishHost, gatewayId })) {
    if (value === undefined) delete (kept as unknown as Record<string, unknown>)[key];
    else (kept as unknown as Record<string, unknown>)[key] = value;
  }
  // The tls block's certificates and redirect apply at reload; its presence, listener and acme block do not.
  if (!tls) delete kept.tls;
  else if (next.tls) {
    const { acme: _next, ...rest } = next.tls;
    kept.tls = { ...rest, listen: tls.listen, ...(tls.acme ? { acme: tls.acme } : {}) };
  } else kept.tls = tls;
  return kept;
}

/** One warning per API app the policy refuses: it stays declared, its running containers run on until stopped, and no new one is made. */
function warnPolicyRefused(logger: Logger, refused: ReadonlyArray<{ app: string; reason: string }>, policy: string): void {
  for (const { app, reason } of refused) {
    logger.warn({ app, reason }, `app ${app} (applied through the API) is refused by ${policy}: its running containers run on until stopped, and no new container is made for it (${reason})`);
  }
}

function defaultsOf(config: GatewayConfig): AppDefaults {
  return { ...config.defaults, waitingPage: config.waitingPage, policy: config.policy };
}

function logStatus(logger: Logger, s: AppStatus): void {
  logger.info({ app: s.name, state: s.state, lastError: s.lastError, startMs: s.state === 'running' ? s.lastStartMs : undefined }, 'app state');
}

/** The config file's `logLevel`, unless BERTH_LOG_LEVEL set one (the environment wins); none: the start level. */
function applyLogLevel(logger: Logger, config: GatewayConfig, startLevel: string): void {
  if (process.env.BERTH_LOG_LEVEL) return;
  logger.level = logLevelFor(config.logLevel, undefined, startLevel);
}
