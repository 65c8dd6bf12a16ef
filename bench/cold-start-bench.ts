/** The cold-start benchmark's runs: its floor containers and berth's gateway, set up, measured and removed. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type Docker from 'dockerode';
import { destination, pino } from 'pino';
import { Gateway } from '../src/gateway/gateway.js';
import { createDockerClient, resolveDockerEndpoint } from '../src/runtime/docker/client.js';
import { DockerRuntime } from '../src/runtime/docker/docker-runtime.js';
import { appsNetworkOf, ensureAppsNetwork } from '../src/runtime/docker/apps-network.js';
import { BUILT_IN_RESOURCES } from '../src/runtime/docker/container-config.js';
import type { DockerContext } from '../src/runtime/docker/context.js';
import { SqliteStore } from '../src/store/sqlite-store.js';
import type { AppState } from '../src/activator/app-status.js';
import type { BurstClientInput, BurstClientOutput } from './cold-burst-client.js';
import { callName, EventLog, traceClient, type EngineCall } from './cold-start-engine.js';
import type { BerthRun, BurstResult, FloorRun } from './cold-start-types.js';
import { APP_PORT, IMAGE, removeRunObjects, requireImage, runLabels } from './lib/docker.js';
import { get, pollUntil200, STEP_LIMIT_MS } from './cold-start-probe.js';
import { listenOverflows } from './lib/procfs.js';
import { freePort } from './lib/ports.js';
import { QuietWaiter } from './lib/quiet.js';
import { logger } from './lib/run.js';
import { round, summary } from './lib/stats.js';
import type { Options } from './cold-start-options.js';

/** BENCH_COLD_APPS_NETWORK=none measures both sides without berth's apps network (the gateway's `appsNetwork`). */
const APPS_NETWORK = process.env.BENCH_COLD_APPS_NETWORK || undefined;

/** Idle timeout of the bench apps: berth stops (or pauses) them this long after each run. */
const IDLE = '300ms';
const BURST_IDLE = '3s';

const log = logger('cold-start');

export class Bench {
  readonly labels: Record<string, string>;
  readonly runLabel: string;
  readonly docker: Docker;
  readonly calls: EngineCall[] = [];
  readonly events = new EventLog();
  readonly quiet: QuietWaiter;
  gateway?: Gateway;
  dir?: string;
  proxyPort = 0;
  floorStop?: Docker.Container;
  floorPause?: Docker.Container;
  floorStopPort = 0;
  floorPausePort = 0;
  readonly apps: { stop: string; pause: string; burst: string };

  constructor(readonly options: Options) {
    ({ labels: this.labels, runLabel: this.runLabel } = runLabels(options.runId));
    this.docker = createDockerClient(resolveDockerEndpoint());
    // Looks at the machine for 200 ms, then every 500 ms while it is busy.
    this.quiet = new QuietWaiter({ maxCores: options.quietCores, budgetMs: options.quietBudgetMs, log, firstSampleMs: 200, sampleMs: 500, ticksPerS: 100, sayWhenDone: false });
    const id = options.runId;
    this.apps = { stop: `bench-${id}-stop`, pause: `bench-${id}-pause`, burst: `bench-${id}-burst` };
  }

  // ------------------------------------------------------------ setup

  async setup(): Promise<void> {
    await requireImage(this.docker);
    await this.events.open(this.docker, this.runLabel);

    this.floorStopPort = await freePort();
    this.floorPausePort = await freePort();
    this.floorStop = await this.createFloor('stop', this.floorStopPort);
    this.floorPause = await this.createFloor('pause', this.floorPausePort);
    await this.floorPause.start();
    await pollUntil200(this.floorPausePort, performance.now());
    await this.floorPause.pause();

    // Under the script's own temp dir when run by cold-start.sh (its trap removes it after a crash).
    this.dir = await mkdtemp(join(process.env.BENCH_COLD_TMPDIR || tmpdir(), 'berth-cold-bench-'));
    const app = (name: string, prefix: string, extra: string, idle = IDLE): string =>
      [
        `  - apiVersion: berth/v1`,
        `    name: ${name}`,
        `    image: ${IMAGE}`,
        `    port: ${APP_PORT}`,
        `    routes: [{path: ${prefix}, stripPrefix: true}]`,
        `    readiness: {path: /healthz}`,
        `    idleTimeout: ${idle}`,
        `    startTimeout: 30s`,
        ...extra.split('\n').filter(Boolean).map((l) => `    ${l}`),
      ].join('\n');
    const config = [
      'listen: 127.0.0.1:0',
      'admin: 127.0.0.1:0',
      'store: ./berth.db',
      'defaults: {idleTimeout: 5m, queueSize: 2000}',
      'drainTimeout: 1s',
      ...(APPS_NETWORK ? [`appsNetwork: ${APPS_NETWORK}`] : []),
      'policy:',
      '  images: ["berth-test/*"]',
      'apps:',
      app(this.apps.stop, '/stop/', this.options.bootDelayMs > 0 ? `env: {STARTUP_DELAY_MS: "${this.options.bootDelayMs}"}` : ''),
      app(this.apps.pause, '/pause/', 'idleAction: pause'),
      // A longer idle timeout: a request of the burst that comes late (a SYN resent after
      // a full accept queue, 1 s) must find the app still up, as with any real idle timeout.
      app(this.apps.burst, '/burst/', 'waiting: hold', BURST_IDLE),
      '',
    ].join('\n');
    await writeFile(join(this.dir, 'berth.yaml'), config);

    const runtime = new DockerRuntime({ extraLabels: this.labels, appsNetwork: APPS_NETWORK });
    // Time every Engine API call berth makes (its runtime opens its client lazily).
    const traced = traceClient(createDockerClient(runtime.endpoint), this.calls);
    (runtime as unknown as { client?: Docker }).client = traced;
    const gateway = new Gateway(join(this.dir, 'berth.yaml'), {
      logger: pino({ level: this.options.logLevel }, destination(2)),
      openStore: async (c) => {
        const store = new SqliteStore({ path: c.store });
        await store.open();
        return store;
      },
      runtime: () => runtime,
    });
    this.gateway = gateway;
    await gateway.start();
    this.proxyPort = gateway.proxyAddress?.port ?? 0;
    if (!this.proxyPort) throw new Error('the gateway is not listening');
    for (const name of Object.values(this.apps)) await this.waitState(name, ['stopped']);
    if (this.calls.length === 0) log('note: the engine call trace is unavailable (DockerRuntime no longer uses a `client` field); breakdowns will be empty');
  }

  private async createFloor(role: string, hostPort: number): Promise<Docker.Container> {
    // The same container as berth's own (same image, --init, loopback-published port,
    // the built-in memory and pids limits, no-new-privileges, and berth's apps network
    // beside the default bridge, aliased), so the floor is the engine's cost of starting
    // what berth starts; but not berth's: no berth.managed label, and a fixed host port
    // so no lookup is needed. What the network and the limits cost is the engine's; the
    // README of bench/ gives it.
    const key = `${APP_PORT}/tcp`;
    const container = await this.docker.createContainer({
      name: `berth-bench-${this.options.runId}-floor-${role}`,
      Image: IMAGE,
      Labels: { ...this.labels, 'berth.bench.role': `floor-${role}` },
      // The app waits this long before it listens (test app's STARTUP_DELAY_MS), like berth's cold-start app.
      Env: role === 'stop' && this.options.bootDelayMs > 0 ? [`STARTUP_DELAY_MS=${this.options.bootDelayMs}`] : [],
      ExposedPorts: { [key]: {} },
      Tty: false,
      HostConfig: {
        Init: true,
        PortBindings: { [key]: [{ HostIp: '127.0.0.1', HostPort: String(hostPort) }] },
        RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
        SecurityOpt: ['no-new-privileges'],
        Memory: BUILT_IN_RESOURCES.memoryBytes,
        PidsLimit: BUILT_IN_RESOURCES.pids,
      },
    });
    // berth's gateway below ensures the network too; the floor is made first.
    const network = appsNetworkOf(APPS_NETWORK);
    if (!network) return container;
    const ctx = { endpoint: resolveDockerEndpoint(), docker: () => this.docker, extraLabels: {} } as unknown as DockerContext;
    await ensureAppsNetwork(ctx, network);
    await this.docker.getNetwork(network).connect({ Container: container.id, EndpointConfig: { Aliases: [`floor-${role}-${this.options.runId}`] } });
    return container;
  }

  state(app: string): AppState | undefined {
    return this.gateway?.statuses().find((s) => s.name === app)?.state;
  }

  /** Waits (bounded) until berth says the app is in one of `states`. */
  async waitState(app: string, states: readonly AppState[], limitMs = STEP_LIMIT_MS): Promise<void> {
    const deadline = performance.now() + limitMs;
    while (performance.now() < deadline) {
      const s = this.state(app);
      if (s && states.includes(s)) return;
      await sleep(5);
    }
    const st = this.gateway?.statuses().find((s) => s.name === app);
    throw new Error(`${app} did not become ${states.join('/')} within ${limitMs} ms (state ${st?.state}, error ${st?.lastError ?? '-'})`);
  }

  // ------------------------------------------------------------ measurements

  async floorStopRun(): Promise<FloorRun> {
    return this.floorRun(this.floorStop!, this.floorStopPort, (c) => c.start(), (c) => c.stop({ t: 10 }));
  }

  async floorPauseRun(): Promise<FloorRun> {
    return this.floorRun(this.floorPause!, this.floorPausePort, (c) => c.unpause(), (c) => c.pause());
  }

  /** One floor run: the engine call that wakes the container, then its port polled until the first 200; then back to rest. */
  private async floorRun(c: Docker.Container, port: number, wake: (c: Docker.Container) => Promise<unknown>, rest: (c: Docker.Container) => Promise<unknown>): Promise<FloorRun> {
    const load = await this.settle();
    const t0 = performance.now();
    await wake(c);
    const engineMs = performance.now() - t0;
    const poll = await pollUntil200(port, t0);
    const run: FloorRun = { ms: poll.ms, engineMs, pollMs: poll.ms - engineMs, attempts: poll.attempts, timeouts: poll.timeouts, load };
    await rest(c);
    return run;
  }

  /** One GET through berth to an app berth has stopped or paused; then waits until berth stops/pauses it again. */
  async berthRun(app: string, prefix: string, rest: AppState, from: AppState = rest): Promise<BerthRun> {
    const mainCall = from === 'paused' ? 'unpause' : 'start';
    await this.waitState(app, [from]);
    const load = await this.settle();
    if (this.state(app) !== from) throw new Error(`${app} left state ${from} while settling`);
    const phase = `run-${app}-${performance.now()}`;
    this.events.phase = phase;
    const first = this.calls.length;
    const t0 = performance.now();
    const reply = await get(this.proxyPort, `${prefix}ping`, STEP_LIMIT_MS);
    const t1 = performance.now();
    if (reply.status !== 200 || reply.body !== 'pong') throw new Error(`${app}: GET ${prefix}ping answered ${reply.status} ${reply.body.slice(0, 200)}`);
    const status = this.gateway!.statuses().find((s) => s.name === app);
    const calls = this.calls.slice(first).filter((c) => c.startMs >= t0 && c.endMs <= t1);
    const main = calls.find((c) => callName(c) === mainCall);
    await this.waitState(app, [rest]);
    // The engine's start/unpause event may arrive a moment after the response.
    await sleep(20);
    this.events.phase = 'between';
    return {
      ms: t1 - t0,
      lastStartMs: status?.lastStartMs,
      calls: calls.map((c) => ({ call: callName(c), at: round(c.startMs - t0), ms: round(c.endMs - c.startMs) })),
      beforeCallMs: main ? main.startMs - t0 : NaN,
      afterCallMs: main ? t1 - main.endMs : NaN,
      starts: this.events.count(rest === 'paused' ? 'unpause' : 'start', phase, app),
      load,
    };
  }

  async burstRun(n: number): Promise<BurstResult> {
    const app = this.apps.burst;
    await this.waitState(app, ['stopped']);
    const load = await this.settle();
    const input: BurstClientInput = { port: this.proxyPort, path: '/burst/ping', n, timeoutMs: 60_000 };
    const worker = new Worker(new URL('./cold-burst-client.js', import.meta.url), { workerData: input });
    try {
      const messages = (async function* () {
        for (;;) yield (await once(worker, 'message'))[0] as unknown;
      })();
      const bound = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
        Promise.race([p, sleep(ms).then(() => Promise.reject(new Error(`burst: ${what} within ${ms} ms`)))]);
      const ready = await bound(messages.next(), 10_000, 'the client worker did not start');
      if (ready.value !== 'ready') throw new Error(`burst: unexpected message from the client worker: ${JSON.stringify(ready.value)}`);
      const overflowsBefore = listenOverflows();
      this.events.phase = 'burst';
      worker.postMessage('go');
      const reply = await bound(messages.next(), 90_000, 'the requests were not all answered');
      const out = reply.value as BurstClientOutput | { error: string };
      if ('error' in out) throw new Error(`burst client: ${out.error}`);
      await sleep(500);
      this.events.phase = 'after-burst';
      const served = out.servedMs.filter((x): x is number => x !== undefined).sort((a, b) => a - b);
      const overflowsAfter = listenOverflows();
      const appPid = await this.docker
        .getContainer(`berth-${app}-0`)
        .inspect()
        .then((i) => i.State.Pid, () => 0);
      return {
        requests: n,
        ok: served.length,
        failed: n - served.length,
        statuses: out.statuses,
        errors: out.errors,
        starts: this.events.count('start', 'burst', app),
        sentMs: round(out.sentMs),
        firstMs: round(served[0] ?? NaN),
        lastMs: round(served[served.length - 1] ?? NaN),
        latency: summary(served),
        servedAfter1s: served.filter((x) => x >= 1000).length,
        lastStartMs: this.gateway?.statuses().find((st) => st.name === app)?.lastStartMs,
        load: round(load),
        listenOverflows: overflowsBefore === undefined || overflowsAfter === undefined ? undefined : overflowsAfter - overflowsBefore,
        appListenOverflows: appPid > 0 ? listenOverflows(`/proc/${appPid}/net/netstat`) : undefined,
        servedMs: served.map((x) => round(x, 1)),
      };
    } finally {
      await worker.terminate();
    }
  }

  /** A pause before each measured run, and a wait for other work on the machine to calm down. */
  private async settle(): Promise<number> {
    await sleep(this.options.settleMs);
    return this.quiet.wait();
  }

  // ------------------------------------------------------------ cleanup

  async cleanup(): Promise<string> {
    this.events.close();
    await this.gateway?.close().catch((err: unknown) => log(`gateway close: ${(err as Error).message}`));
    this.gateway = undefined;
    const removed = await removeRunObjects(this.docker, this.runLabel);
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
    return removed;
  }
}
