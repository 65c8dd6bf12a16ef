import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanupByLabel, testDocker } from './docker-cleanup.js';
import { rawExchange } from './raw-http.js';

/** bin/berth.js of this checkout (this file runs as dist/test/support/gateway-process.js). */
const BERTH_BIN = fileURLToPath(new URL('../../../bin/berth.js', import.meta.url));
const OUTPUT_KEEP = 256 * 1024;

export interface GatewayProcessOptions {
  /** App spec YAML by app name; each is written to apps/<name>.yaml. */
  apps: Record<string, string>;
  /** Appended to the config file (top-level keys). */
  extraConfig?: string;
  /** BERTH_LOG_LEVEL of the child. Default warn. */
  logLevel?: string;
  /** The store setting (a postgres:// URL shared by several gateways). Default ./berth.db in the temp dir. */
  store?: string;
  /** The apps network; default one of this gateway's own. Gateways sharing a store share the containers: give them `none`. */
  appsNetwork?: string;
  /** More environment for the child (BERTH_GATEWAY_ID…). */
  env?: Record<string, string>;
  /** The proxy listener. Default 127.0.0.1:0 (a port of the kernel's choosing). */
  listen?: string;
  /** Runs the child under `prlimit --nofile=N:N` (soft and hard open-file limit N). */
  nofile?: number;
}

/**
 * The real gateway as a child process (`berth serve`), so a test can see it die
 * (its exit is recorded) without taking the test runner down with it. The
 * config cannot carry test labels, so every app gets a run-unique name and
 * dispose() removes the containers by their `berth.app` label.
 */
export class GatewayProcess {
  readonly adminToken = `adv-${Math.random().toString(36).slice(2)}-token`;
  proxyPort = 0;
  adminPort = 0;
  /** The TLS listener's port, when the config has a `tls` block. */
  httpsPort = 0;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  private output = '';
  private child?: ChildProcess;

  /** The apps network the gateway was given; removed by dispose(). */
  network?: string;

  private constructor(
    readonly dir: string,
    readonly appNames: string[],
  ) {}

  static async start(options: GatewayProcessOptions): Promise<GatewayProcess> {
    const dir = await mkdtemp(join(tmpdir(), 'berth-adv-'));
    await mkdir(join(dir, 'apps'));
    const gw = new GatewayProcess(dir, Object.keys(options.apps));
    for (const [name, yaml] of Object.entries(options.apps)) await writeFile(join(dir, 'apps', `${name}.yaml`), yaml);
    // A network of this gateway's own (berth's default, berth-apps, would outlive the test).
    const network = options.appsNetwork ?? `berth-adv-${basename(dir).slice('berth-adv-'.length).toLowerCase()}`;
    if (options.appsNetwork === undefined) gw.network = network;
    gw.env = options.env ?? {};
    gw.nofile = options.nofile;
    const config = `listen: ${options.listen ?? '127.0.0.1:0'}\nadmin: 127.0.0.1:0\nstore: ${options.store ?? './berth.db'}\nappsNetwork: ${network}\npolicy:\n  images: ["berth-test/*"]\napps:\n  - ./apps/\n${options.extraConfig ?? ''}`;
    await writeFile(join(dir, 'berth.yaml'), config);
    try {
      gw.logLevel = options.logLevel ?? 'warn';
      await gw.spawn(gw.logLevel);
    } catch (err) {
      await gw.dispose();
      throw err;
    }
    return gw;
  }

  private spawn(logLevel: string): Promise<void> {
    const argv = [process.execPath, BERTH_BIN, 'serve', '--config', join(this.dir, 'berth.yaml'), '--no-watch'];
    // prlimit execs the command in its place: the child's pid is still the gateway's.
    const [file, ...args] = this.nofile === undefined ? argv : ['prlimit', `--nofile=${this.nofile}:${this.nofile}`, '--', ...argv];
    const child = spawn(file!, args, {
      cwd: this.dir,
      env: { ...process.env, BERTH_ADMIN_TOKEN: this.adminToken, BERTH_LOG_LEVEL: logLevel, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const keep = (c: Buffer) => {
      this.output += c.toString();
      if (this.output.length > OUTPUT_KEEP) this.output = this.output.slice(-OUTPUT_KEEP);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`gateway did not print its ports within 20 s:\n${this.tail()}`)), 20_000);
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        clearTimeout(timer);
        reject(new Error(`gateway exited at start (code ${code}, signal ${signal}):\n${this.tail()}`));
      });
      const onData = () => {
        const fresh = this.output.slice(this.output.lastIndexOf('--- respawned') + 1);
        const proxy = /berth is serving on http:\/\/127\.0\.0\.1:(\d+)/.exec(fresh);
        const admin = /admin API on http:\/\/127\.0\.0\.1:(\d+)/.exec(fresh);
        if (proxy && admin) {
          this.proxyPort = Number(proxy[1]);
          this.adminPort = Number(admin[1]);
          const https = /HTTPS \(HTTP\/2\) on 127\.0\.0\.1:(\d+)/.exec(fresh);
          if (https) this.httpsPort = Number(https[1]);
          child.stderr!.off('data', onData);
          clearTimeout(timer);
          resolve();
        }
      };
      child.stderr!.on('data', onData);
    });
  }

  /**
   * Starts the gateway again on the same config and store if it died, so one
   * crash fails its own case only and the cases after it still measure
   * something. Returns the exit it replaced, if any.
   */
  async respawnIfDead(): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined> {
    if (this.alive) return undefined;
    const previous = this.exit;
    this.exit = undefined;
    this.output += '\n--- respawned after a crash ---\n';
    this.crashes++;
    await this.spawn(this.logLevel);
    return previous;
  }

  private env: Record<string, string> = {};
  private nofile?: number;

  /** How many times the gateway died and was respawned. */
  crashes = 0;
  private logLevel = 'warn';

  /** The gateway's process id (the control process, with `workers` > 1). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get alive(): boolean {
    return this.exit === undefined && this.child?.exitCode === null;
  }

  /** The last part of the child's stdout and stderr. */
  tail(chars = 4000): string {
    const since = this.output.lastIndexOf('--- respawned');
    return this.output.slice(Math.max(since, this.output.length - chars, 0));
  }

  /** Waits up to `ms` for the child to exit (a crash's exit event can trail its last answer). */
  async settle(ms: number): Promise<void> {
    for (let waited = 0; waited < ms && this.alive; waited += 25) await new Promise((r) => setTimeout(r, 25));
  }

  /** Log lines (stdout JSON) that look like an uncaught error, for reports. */
  get allOutput(): string {
    return this.output;
  }

  /** Throws (with the child's last output) if the gateway has exited. */
  assertAlive(context: string): void {
    if (!this.alive) throw new Error(`gateway process died after ${context} (exit ${JSON.stringify(this.exit)}):\n${this.tail()}`);
  }

  /**
   * Proves the gateway still serves: alive, a running app answers 200 through the
   * proxy, and the admin API answers 200 with the token. Both answers are bounded.
   */
  async assertServing(context: string, livePath: string): Promise<void> {
    this.assertAlive(context);
    const proxy = await rawExchange(this.proxyPort, [`GET ${livePath} HTTP/1.1\r\nHost: 127.0.0.1:${this.proxyPort}\r\nConnection: close\r\n\r\n`], { timeoutMs: 10_000 });
    this.assertAlive(context);
    if (proxy.responses[0]?.status !== 200) {
      await this.settle(1000);
      this.assertAlive(context);
      throw new Error(`after ${context}: GET ${livePath} through the proxy did not answer 200 (${proxy.responses[0]?.status ?? 'no answer'}, timed out ${proxy.timedOut})`);
    }
    const admin = await this.api('GET', '/v1/apps').catch(async (err: unknown) => {
      await this.settle(1000);
      this.assertAlive(context);
      throw err;
    });
    this.assertAlive(context);
    if (admin.status !== 200) throw new Error(`after ${context}: admin GET /v1/apps answered ${admin.status}`);
  }

  /** Calls the admin API with the token; bounded at 10 s. */
  async api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
    const res = await fetch(`http://127.0.0.1:${this.adminPort}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, json };
  }

  /** Stops `app` through the API if it is not stopped, and waits (at most 20 s) until it is. */
  async ensureStopped(app: string): Promise<void> {
    if ((await this.appState(app)) === 'stopped') return;
    await this.api('POST', `/v1/apps/${app}/stop`).catch(() => undefined);
    for (let i = 0; i < 80; i++) {
      if ((await this.appState(app)) === 'stopped') return;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`app ${app} did not stop within 20 s`);
  }

  /** The app's state as GET /v1/apps/NAME reports it. */
  async appState(name: string): Promise<string> {
    const reply = await this.api('GET', `/v1/apps/${name}`);
    return String(reply.json?.state);
  }

  /** SIGTERM, then SIGKILL after `graceMs`; then removes the apps' containers and the temp dir. */
  async dispose(graceMs = 5000): Promise<void> {
    const child = this.child;
    if (child && this.alive) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    await removeAppContainers(this.appNames);
    if (this.network) await testDocker().getNetwork(this.network).remove().catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Removes every container and volume berth made for these apps (by the `berth.app` label). Never throws. */
export async function removeAppContainers(apps: string[]): Promise<void> {
  const docker = testDocker();
  for (const app of apps) {
    const filters = { label: [`berth.app=${app}`] };
    const containers = await docker.listContainers({ all: true, filters }).catch(() => []);
    await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined)));
    const volumes = (await docker.listVolumes({ filters }).catch(() => ({ Volumes: [] }))).Volumes ?? [];
    await Promise.all(volumes.map((v) => docker.getVolume(v.Name).remove().catch(() => undefined)));
  }
}

/** A test-app spec: routed at /s/NAME/ (prefix stripped), ready on /healthz, labelled for cleanup. */
/** The proxy worker processes of a gateway with `workers` > 1: its children. */
export function workerPids(gateway: number): number[] {
  const tasks = readFileSync(`/proc/${gateway}/task/${gateway}/children`, 'utf8');
  return tasks.trim().split(/\s+/).filter(Boolean).map(Number);
}

export function advAppYaml(name: string, runId: string, extra = ''): string {
  return (
    `apiVersion: berth/v1\nname: ${name}\nimage: berth-test/app:latest\nport: 8080\nreadiness: {path: /healthz}\n` +
    `labels: {berth-test: "true", berth-test-run: "${runId}"}\nroutes:\n  - path: /s/${name}/\n    stripPrefix: true\n${extra}`
  );
}

/** Ends every gateway of a test (never throws), then removes its apps' containers and what carries `label`. */
export async function disposeGateways(gateways: readonly GatewayProcess[], apps: string[], label: string): Promise<void> {
  // All at once: each waits for its own process to drain and exit, which one after another added up.
  await Promise.all(gateways.map((gw) => gw.dispose().catch(() => undefined)));
  await removeAppContainers(apps);
  await cleanupByLabel(label);
}
