import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { pino } from 'pino';
import { Gateway } from '../../src/gateway/gateway.js';
import { DockerRuntime } from '../../src/runtime/docker/docker-runtime.js';
import { DEFAULT_APPS_NETWORK } from '../../src/runtime/docker/apps-network.js';
import { LABEL_STORE } from '../../src/runtime/runtime.js';
import { runtimeFromConfig } from '../../src/runtime/runtime-from-config.js';
import { openStore } from '../../src/store/open-store.js';

/** A gateway in this process on a temp dir, on the real engine, labelling all it creates. */
export class GatewayHarness {
  gateway?: Gateway;
  /** The admin token the gateway accepts (as BERTH_ADMIN_TOKEN would set it). */
  readonly adminToken = `test-admin-${Math.random().toString(36).slice(2)}`;

  private constructor(
    readonly dir: string,
    readonly labels: Record<string, string>,
    /** The config's `store`: a SQLite file in the temp dir by default, or a postgres:// URL. */
    readonly store: string,
  ) {}

  static async create(labels: Record<string, string>, options: { store?: string } = {}): Promise<GatewayHarness> {
    const dir = await mkdtemp(join(tmpdir(), 'berth-gw-'));
    await mkdir(join(dir, 'apps'));
    return new GatewayHarness(dir, labels, options.store ?? './berth.db');
  }

  get configFile(): string {
    return join(this.dir, 'berth.yaml');
  }

  /** Writes the gateway config: proxy on an ephemeral port, store in the temp dir, apps from ./apps/. */
  async writeConfig(extra = ''): Promise<void> {
    // Its own apps network, also for a `berth serve` started on this config (see appsNetworkFor).
    const network = /^appsNetwork:/m.test(extra) ? '' : `appsNetwork: ${this.appsNetworkFor()}\n`;
    const text = `listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nstore: ${JSON.stringify(this.store)}\n${network}policy:\n  images: ["berth-test/*"]\napps:\n  - ./apps/\n${extra}`;
    await writeFile(this.configFile, text);
  }

  async writeApp(file: string, yaml: string): Promise<void> {
    await writeFile(join(this.dir, 'apps', file), yaml);
  }

  /**
   * berth's default apps network is shared and outlives a test; a test gets its own, labelled
   * with the run's labels (the runtime labels what it creates with them), so cleanupByLabel removes it.
   */
  appsNetworkFor(configured: string | undefined = DEFAULT_APPS_NETWORK): string {
    if (configured !== undefined && configured !== DEFAULT_APPS_NETWORK) return configured;
    const run = Object.values(this.labels).join('-').toLowerCase().replace(/[^a-z0-9_.-]/g, '-');
    return `berth-apps-test-${run || 'x'}`;
  }

  async start(): Promise<Gateway> {
    const gateway = new Gateway(this.configFile, {
      logger: pino({ level: process.env.BERTH_TEST_LOG ?? 'silent' }),
      openStore: (config) => openStore(config.store),
      runtime: (config, hooks) =>
        config.runtime === 'swarm'
          ? runtimeFromConfig(config, hooks, this.labels)
          : new DockerRuntime({ docker: config.docker, upstreamHost: config.upstreamHost, publishHost: config.publishHost, appsNetwork: this.appsNetworkFor(config.appsNetwork), extraLabels: { ...this.labels, [LABEL_STORE]: hooks.storeId }, defaultResources: hooks.defaultResources, inputUrl: hooks.inputUrl, secretPolicy: hooks.secretPolicy, bindMountRoots: hooks.bindMountRoots, launchPolicy: hooks.launchPolicy, engineTimeoutMs: config.timeouts.engineMs, onEventStreamError: hooks.onEventStreamError }),
      adminToken: this.adminToken,
    });
    this.gateway = gateway;
    try {
      await gateway.start();
    } catch (err) {
      // A failed start has closed what it opened.
      this.gateway = undefined;
      throw err;
    }
    return gateway;
  }

  get port(): number {
    const port = this.gateway?.proxyAddress?.port;
    if (!port) throw new Error('gateway not listening');
    return port;
  }

  async stop(): Promise<void> {
    await this.gateway?.close();
    this.gateway = undefined;
  }

  async dispose(): Promise<void> {
    await this.stop().catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }

  get adminUrl(): string {
    const port = this.gateway?.adminAddress?.port;
    if (!port) throw new Error('admin API not listening');
    return `http://127.0.0.1:${port}`;
  }

  /** Calls the admin API with the admin token (or `token`, or none when null). */
  async api(method: string, path: string, options: { body?: string; contentType?: string; token?: string | null } = {}): Promise<{ status: number; headers: Headers; json: any; text: string }> {
    const headers: Record<string, string> = {};
    const token = options.token === undefined ? this.adminToken : options.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    const res = await fetch(this.adminUrl + path, { method, headers, body: options.body });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, json, text };
  }

  get(path: string, headers: Record<string, string> = {}): Promise<Reply> {
    return httpGet(this.port, path, headers);
  }
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function httpGet(port: number, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
