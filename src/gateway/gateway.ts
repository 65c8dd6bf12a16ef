import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Accountant } from '../accounting/accountant.js';
import { Activator } from '../activator/activator.js';
import type { AppStatus } from '../activator/app-status.js';
import type { AppDefaults } from '../activator/app-controller.js';
import { InputSource } from '../activator/input-source.js';
import { adminHostNames, isWildcardAddress } from '../api/admin-host.js';
import { AdminServer } from '../api/admin-server.js';
import { apiRoutes } from '../api/routes/index.js';
import { TokenService } from '../api/token-service.js';
import type { GatewayConfig } from '../config/config.js';
import { loadConfig } from '../config/load-config.js';
import { messageOf } from '../errors.js';
import { Metrics } from '../metrics/metrics.js';
import { currentFdLimits, defaultConnectionCap } from '../net/fd-limit.js';
import { ProxyServer } from '../proxy/proxy-server.js';
import { RouteTable } from '../proxy/route-table.js';
import type { Runtime, RuntimeHooks } from '../runtime/runtime.js';
import { resolveImagePorts } from './image-ports.js';
import type { AppSpec } from '../spec/types.js';
import { HistoryBuffer } from '../store/history-buffer.js';
import type { Store, StoredApp } from '../store/store.js';
import { dashboardHandler } from '../ui/serve-ui.js';
import { AppService } from './app-service.js';
import { RequestNotices } from './request-notices.js';
import { StateEvents } from './state-events.js';

export interface GatewayParts {
  logger: Logger;
  /** Builds the store for a config; injected so tests can point it at a temp dir. */
  openStore: (config: GatewayConfig) => Promise<Store>;
  /** Builds the runtime; `hooks` give it what only the running gateway knows (input URLs, current defaults). */
  runtime: (config: GatewayConfig, hooks: RuntimeHooks) => Runtime;
  /** The admin token from the environment (BERTH_ADMIN_TOKEN), if any. */
  adminToken?: string;
}

/**
 * The running gateway: config → store → reconcile with the engine → proxy and
 * admin API. Every change of desired state (a reload, an API apply or delete)
 * runs one at a time. Reloads are transactional in Caddy's sense: the new
 * config is loaded and validated completely first; if that fails the old one
 * keeps serving.
 */
export class Gateway {
  private config?: GatewayConfig;
  private store?: Store;
  private activator?: Activator;
  private proxy?: ProxyServer;
  private admin?: AdminServer;
  private history?: HistoryBuffer;
  private changes: Promise<unknown> = Promise.resolve();
  /** The desired apps by name, as last stored; what the input URL serves from. */
  private specs = new Map<string, AppSpec>();
  /** Serves and signs input URLs (`input.as: url`); made once the store is open. */
  input?: InputSource;
  /** Usage accounting (container-seconds per app and day); made once the store is open. */
  accountant?: Accountant;
  readonly events = new StateEvents();
  private requestNotices?: RequestNotices;
  /** Prometheus metrics (GET /metrics on the admin listener), fed by the proxy and the state events. */
  readonly metrics = new Metrics({ statuses: () => this.statuses() });
  readonly startedAt = new Date();
  apps!: AppService;
  tokens!: TokenService;
  runtime?: Runtime;
  proxyAddress?: AddressInfo;
  adminAddress?: AddressInfo;

  constructor(
    private readonly configFile: string,
    private readonly parts: GatewayParts,
  ) {}

  async start(): Promise<void> {
    const { logger } = this.parts;
    const config = await loadConfig(this.configFile);
    const runtime = this.parts.runtime(config, {
      inputUrl: (app) => this.inputUrl(app),
      defaultResources: () => (this.config ?? config).defaults.resources,
      secretPolicy: () => (this.config ?? config).policy,
      bindMountRoots: () => (this.config ?? config).policy.bindMountRoots,
    });
    await runtime.ping();
    config.apps = await resolveImagePorts(config.apps, runtime, this.configFile);
    const store = await this.parts.openStore(config);
    this.config = config;
    applyLogLevel(logger, config);
    this.store = store;
    this.runtime = runtime;
    this.input = new InputSource(await store.getOrCreateSecret('input'), () => this.specs);
    const { desired, removed } = await syncConfigApps(store, config);
    this.specs = specMap(desired);
    const accountant = new Accountant({ store, logger, statuses: () => this.statuses() });
    this.accountant = accountant;
    accountant.start(this.events);
    this.metrics.follow(this.events);
    const activator = new Activator({
      runtime,
      logger,
      input: this.input,
      defaults: defaultsOf(config),
      onChange: (status) => {
        logStatus(logger, status);
        this.events.publish({ type: 'state', app: status.name, time: new Date(), status });
      },
    });
    this.activator = activator;
    activator.start();
    const notices = (this.requestNotices = new RequestNotices(this.events));
    this.history = new HistoryBuffer({ store, retention: config.history, logger, onWritten: (batch) => notices.written(batch) });
    this.history.start();
    const history = this.history;
    const metrics = this.metrics;
    this.proxy = new ProxyServer({
      routes: routeTableOf(desired),
      upstreams: activator,
      trustedProxies: config.trustedProxies,
      maxRequestHeaders: config.limits.requestHeaders,
      timeouts: config.timeouts,
      appTimeouts: (app) => this.specs.get(app)?.timeouts,
      maxConnections: config.limits.connections ?? defaultConnectionCap(currentFdLimits()?.soft),
      waitingPageHtml: () => (this.config ?? config).waitingPage.html,
      logger,
      onRequestDone: (record) => {
        history.record(record);
        metrics.requestDone(record);
        accountant.request(record);
      },
    });
    this.apps = new AppService({
      store,
      runtime,
      activator,
      events: this.events,
      config: () => this.config!,
      serialize: (change) => this.serialize(change),
      desiredChanged: (names, options) => this.desiredChanged(names, options),
    });
    this.tokens = new TokenService(store, this.parts.adminToken, logger);
    await this.tokens.bootstrap(config.store);
    this.admin = new AdminServer({
      gateway: this,
      tokens: this.tokens,
      routes: apiRoutes,
      logger,
      fallback: dashboardHandler(),
      bindHost: config.admin.host,
      allowedHosts: () => adminHostNames(config.admin.host, (this.config ?? config).adminHosts),
    });
    this.adminAddress = await this.admin.listen(config.admin.host, config.admin.port);
    if (isWildcardAddress(config.admin.host) && config.adminHosts.length === 0) {
      logger.warn({ admin: config.admin.host }, 'the admin listener binds to every address but answers only loopback names (421 otherwise); list the names clients use in adminHosts');
    }
    this.proxyAddress = await this.proxy.listen(config.listen.host, config.listen.port);
    logger.info({ listen: `${this.proxyAddress.address}:${this.proxyAddress.port}`, admin: `${this.adminAddress.address}:${this.adminAddress.port}`, apps: desired.length }, 'gateway listening');
    await activator.reconcile(desired.map((a) => a.spec), removed);
    accountant.settle();
  }

  /** Re-reads the config and spec files and applies the difference. */
  reload(): Promise<void> {
    return this.serialize(() => this.reloadNow());
  }

  private serialize<T>(change: () => Promise<T>): Promise<T> {
    const run = this.changes.then(change);
    this.changes = run.catch(() => undefined);
    return run;
  }

  private async reloadNow(): Promise<void> {
    const { logger } = this.parts;
    const store = this.store;
    if (!store || !this.activator) return;
    let config: GatewayConfig;
    try {
      config = await loadConfig(this.configFile);
      config.apps = await resolveImagePorts(config.apps, this.runtime!, this.configFile);
    } catch (err) {
      logger.error({ err: messageOf(err) }, 'reload refused, the previous configuration keeps serving');
      return;
    }
    this.config = config;
    applyLogLevel(logger, config);
    this.activator.setDefaults(defaultsOf(config));
    const { removed } = await syncConfigApps(store, config);
    await this.desiredChanged(removed);
    logger.info({ apps: config.apps.length, removed }, 'configuration reloaded');
  }

  /** After desired state changed: new routes for new requests, then the engine brought in line. */
  private async desiredChanged(removed: string[], options: { purgeVolumes?: boolean } = {}): Promise<void> {
    const desired = await this.store!.listApps();
    this.specs = specMap(desired);
    this.proxy!.setRoutes(routeTableOf(desired));
    await this.activator!.reconcile(desired.map((a) => a.spec), removed, options);
  }

  /**
   * The URL a container fetches its input from: `inputBaseUrl`, by default the
   * proxy's port on host.docker.internal (mapped to the docker bridge's gateway).
   * A container reaches it only when the proxy listens where containers can
   * connect (the bridge address, or 0.0.0.0), not on berth's default 127.0.0.1.
   * Asked at container create, which happens only after the proxy listens.
   */
  private inputUrl(app: string): string {
    if (!this.input || !this.config) throw new Error('the gateway has not opened its store yet: no input URL');
    const base = this.config.inputBaseUrl ?? `http://host.docker.internal:${this.proxyAddress?.port ?? this.config.listen.port}`;
    return this.input.url(base, app);
  }

  statuses(): AppStatus[] {
    return this.activator?.statuses() ?? [];
  }

  get currentConfig(): GatewayConfig | undefined {
    return this.config;
  }

  /** Stops accepting, lets requests in flight finish, and leaves containers as they are. */
  async close(): Promise<void> {
    await this.admin?.close();
    await this.proxy?.close(this.config?.drainTimeoutMs);
    this.activator?.close();
    await this.history?.close();
    this.requestNotices?.close();
    await this.accountant?.close();
    await this.store?.close();
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

function specMap(apps: readonly StoredApp[]): Map<string, AppSpec> {
  return new Map(apps.map((a) => [a.name, a.spec]));
}

function defaultsOf(config: GatewayConfig): AppDefaults {
  return { ...config.defaults, waitingPage: config.waitingPage, policy: config.policy };
}

function routeTableOf(apps: readonly StoredApp[]): RouteTable {
  return new RouteTable(apps.map((a) => ({ app: a.name, routes: a.spec.routes })));
}

function logStatus(logger: Logger, s: AppStatus): void {
  logger.info({ app: s.name, state: s.state, lastError: s.lastError, startMs: s.state === 'running' ? s.lastStartMs : undefined }, 'app state');
}

/** The config file's `logLevel`, unless BERTH_LOG_LEVEL set one (the environment wins). */
function applyLogLevel(logger: Logger, config: GatewayConfig): void {
  if (config.logLevel && !process.env.BERTH_LOG_LEVEL) logger.level = config.logLevel;
}
