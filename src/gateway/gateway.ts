import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Activator } from '../activator/activator.js';
import type { AppStatus } from '../activator/app-status.js';
import type { AppDefaults } from '../activator/app-controller.js';
import type { GatewayConfig } from '../config/config.js';
import { loadConfig } from '../config/load-config.js';
import { messageOf } from '../errors.js';
import { ProxyServer } from '../proxy/proxy-server.js';
import { RouteTable } from '../proxy/route-table.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Store, StoredApp } from '../store/store.js';

export interface GatewayParts {
  logger: Logger;
  /** Builds the store for a config; injected so tests can point it at a temp dir. */
  openStore: (config: GatewayConfig) => Promise<Store>;
  runtime: (config: GatewayConfig) => Runtime;
}

/**
 * The running gateway: config → store → reconcile with the engine → proxy.
 * Reloads are transactional in Caddy's sense: the new config is loaded and
 * validated completely first; if that fails the old one keeps serving.
 */
export class Gateway {
  private config?: GatewayConfig;
  private store?: Store;
  private runtime?: Runtime;
  private activator?: Activator;
  private proxy?: ProxyServer;
  private reloading: Promise<void> = Promise.resolve();
  proxyAddress?: AddressInfo;

  constructor(
    private readonly configFile: string,
    private readonly parts: GatewayParts,
  ) {}

  async start(): Promise<void> {
    const { logger } = this.parts;
    const config = await loadConfig(this.configFile);
    const runtime = this.parts.runtime(config);
    await runtime.ping();
    const store = await this.parts.openStore(config);
    this.config = config;
    this.store = store;
    this.runtime = runtime;
    const { desired, removed } = await syncConfigApps(store, config);
    const activator = new Activator({ runtime, logger, onChange: (s) => logStatus(logger, s), defaults: defaultsOf(config) });
    this.activator = activator;
    activator.start();
    this.proxy = new ProxyServer({ routes: routeTableOf(desired), upstreams: activator, trustedProxies: config.trustedProxies, logger });
    this.proxyAddress = await this.proxy.listen(config.listen.host, config.listen.port);
    logger.info({ listen: `${this.proxyAddress.address}:${this.proxyAddress.port}`, apps: desired.length }, 'proxy listening');
    await activator.reconcile(desired.map((a) => a.spec), removed);
  }

  /** Re-reads the config and spec files and applies the difference; serialized with other reloads. */
  reload(): Promise<void> {
    this.reloading = this.reloading.then(() => this.reloadNow());
    return this.reloading;
  }

  private async reloadNow(): Promise<void> {
    const { logger } = this.parts;
    const store = this.store;
    const proxy = this.proxy;
    const activator = this.activator;
    if (!store || !proxy || !activator) return;
    let config: GatewayConfig;
    try {
      config = await loadConfig(this.configFile);
    } catch (err) {
      logger.error({ err: messageOf(err) }, 'reload refused, the previous configuration keeps serving');
      return;
    }
    this.config = config;
    activator.setDefaults(defaultsOf(config));
    const { desired, removed } = await syncConfigApps(store, config);
    proxy.setRoutes(routeTableOf(desired));
    await activator.reconcile(desired.map((a) => a.spec), removed);
    logger.info({ apps: desired.length, removed }, 'configuration reloaded');
  }

  statuses(): AppStatus[] {
    return this.activator?.statuses() ?? [];
  }

  get currentConfig(): GatewayConfig | undefined {
    return this.config;
  }

  /** Stops accepting, lets requests in flight finish, and leaves containers as they are. */
  async close(): Promise<void> {
    await this.proxy?.close(this.config?.drainTimeoutMs);
    this.activator?.close();
    await this.store?.close();
  }
}

/**
 * Writes the config's apps to the store in one transaction and returns the
 * desired set; config apps that left the config are deleted.
 */
async function syncConfigApps(store: Store, config: GatewayConfig): Promise<{ desired: StoredApp[]; removed: string[] }> {
  const declared = new Set(config.apps.map((a) => a.name));
  const before = await store.listApps();
  const removed = before.filter((a) => a.source === 'config' && !declared.has(a.name)).map((a) => a.name);
  await store.applyApps(config.apps, 'config', removed);
  return { desired: await store.listApps(), removed };
}

function defaultsOf(config: GatewayConfig): AppDefaults {
  return { ...config.defaults, waitingPage: config.waitingPage };
}

function routeTableOf(apps: readonly StoredApp[]): RouteTable {
  return new RouteTable(apps.map((a) => ({ app: a.name, routes: a.spec.routes })));
}

function logStatus(logger: Logger, s: AppStatus): void {
  logger.info({ app: s.name, state: s.state, lastError: s.lastError, startMs: s.state === 'running' ? s.lastStartMs : undefined }, 'app state');
}
