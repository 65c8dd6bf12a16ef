/**
 * Cold-start benchmark: how long a request waits for a stopped (or paused) app
 * through berth, next to the Docker engine's own floor measured in the same run.
 * Run it with `bash bench/cold-start.sh` (which makes sure the engine runs, the
 * test image exists and the code is compiled, and cleans up after a crash).
 *
 *   node dist/bench/cold-start.js [--runs 20] [--warmup 2] [--burst 1000] [--boot-delay-ms 0] [--json bench/results/cold-start-latest.json]
 *
 * In one process, on the real engine, with `berth-test/app:latest` (never pulled):
 *   1. floor/stop   a container of its own (not berth's), stopped: Engine API start →
 *                   first 200 from polling its published 127.0.0.1 port directly.
 *   2. berth/stop   berth's real Gateway (SqliteStore + DockerRuntime) with an app on
 *                   the same image, stopped by berth's own idle stop: one GET through
 *                   the proxy → its 200.
 *   3. floor/pause  the floor container paused: Engine API unpause → first 200.
 *   4. berth/pause  an app with `idleAction: pause`, paused by berth → first 200 through berth.
 *   5. burst        one stopped app, N requests at once: engine `start` events counted,
 *                   successes counted, time until the last one is served.
 * Floor and berth runs alternate (which one goes first alternates too), so a burst
 * of other work on the machine hits both sides rather than one.
 *
 * Everything it creates carries `berth.bench=true` and `berth.bench.run=<id>` and is
 * removed on exit, failure and SIGINT/SIGTERM. Every loop is bounded in count and time.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile, copyFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir, cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { destination, pino } from 'pino';
import { Gateway } from '../src/gateway/gateway.js';
import { createDockerClient, resolveDockerEndpoint } from '../src/runtime/docker/client.js';
import { DockerRuntime } from '../src/runtime/docker/docker-runtime.js';
import { SqliteStore } from '../src/store/sqlite-store.js';
import type { AppState } from '../src/activator/app-status.js';
import type { BurstClientInput, BurstClientOutput } from './cold-burst-client.js';

const IMAGE = 'berth-test/app:latest';
const APP_PORT = 8080;
/** Per-attempt timeout of the floor's poll, like berth's first readiness attempts. */
const PROBE_TIMEOUT_MS = 25;
/** Pause between the floor's poll attempts: as tight as a timer allows. */
const PROBE_GAP_MS = 1;
/** No single measured step may take longer than this. */
const STEP_LIMIT_MS = 30_000;
/** Idle timeout of the bench apps: berth stops (or pauses) them this long after each run. */
const IDLE = '300ms';
const BURST_IDLE = '3s';

// ---------------------------------------------------------------- options

interface Options {
  runs: number;
  warmup: number;
  burst: number;
  settleMs: number;
  json: string;
  runId: string;
  quietCores: number;
  quietBudgetMs: number;
  logLevel: string;
  /** STARTUP_DELAY_MS for the cold-start series' app (floor and berth): a slower-booting app. */
  bootDelayMs: number;
}

function parseOptions(argv: readonly string[]): Options {
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const int = (value: string | undefined, fallback: number, min: number, max: number, what: string): number => {
    if (value === undefined || value === '') return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${what} must be a whole number from ${min} to ${max}, got '${value}'`);
    return n;
  };
  const env = process.env;
  const runId = arg('--run-id') ?? env.BENCH_COLD_RUN_ID ?? randomBytes(4).toString('hex');
  if (!/^[a-z0-9]{4,16}$/.test(runId)) throw new Error(`run id must be 4-16 lowercase letters or digits, got '${runId}'`);
  return {
    runs: int(arg('--runs') ?? env.BENCH_COLD_RUNS, 20, 10, 500, 'runs (at least 10)'),
    warmup: int(arg('--warmup') ?? env.BENCH_COLD_WARMUP, 2, 0, 20, 'warmup'),
    burst: int(arg('--burst') ?? env.BENCH_COLD_BURST, 1000, 1, 5000, 'burst'),
    settleMs: int(arg('--settle-ms') ?? env.BENCH_COLD_SETTLE_MS, 300, 0, 10_000, 'settle-ms'),
    json: resolve(arg('--json') ?? env.BENCH_COLD_JSON ?? 'bench/results/cold-start-latest.json'),
    runId,
    quietCores: Number(env.BENCH_QUIET_CORES ?? '0.3'),
    quietBudgetMs: int(env.BENCH_QUIET_BUDGET, 120, 0, 3600, 'BENCH_QUIET_BUDGET') * 1000,
    logLevel: env.BERTH_LOG_LEVEL ?? 'silent',
    bootDelayMs: int(arg('--boot-delay-ms') ?? env.BENCH_COLD_BOOT_DELAY_MS, 0, 0, 10_000, 'boot-delay-ms'),
  };
}

const log = (msg: string): void => void process.stderr.write(`[cold-start] ${msg}\n`);

// ---------------------------------------------------------------- statistics

/** Percentile with linear interpolation between closest ranks (numpy's default). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

interface Summary {
  n: number;
  median: number;
  p90: number;
  min: number;
  max: number;
}

function summary(values: readonly number[]): Summary {
  return {
    n: values.length,
    median: round(percentile(values, 50)),
    p90: round(percentile(values, 90)),
    min: round(Math.min(...values)),
    max: round(Math.max(...values)),
  };
}

const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;
const fmt = (x: number, digits = 1): string => (Number.isFinite(x) ? x.toFixed(digits) : '-');

// ---------------------------------------------------------------- http

interface Reply {
  status: number;
  body: string;
}

/** One GET on a fresh connection; rejects on error or when no full answer came within `timeoutMs`. */
function get(port: number, path: string, timeoutMs: number): Promise<Reply> {
  return new Promise((resolvePromise, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers: { 'user-agent': 'berth-cold-bench' } }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
      });
      res.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}

interface PollResult {
  ms: number;
  attempts: number;
  timeouts: number;
}

/**
 * The floor's readiness poll: GET /ping on fresh connections, 25 ms per attempt,
 * 1 ms apart, until the first 200. `since` is the time the measurement began.
 */
async function pollUntil200(port: number, since: number): Promise<PollResult> {
  const deadline = since + STEP_LIMIT_MS;
  let attempts = 0;
  let timeouts = 0;
  while (performance.now() < deadline) {
    attempts++;
    try {
      const reply = await get(port, '/ping', PROBE_TIMEOUT_MS);
      if (reply.status === 200) return { ms: performance.now() - since, attempts, timeouts };
    } catch (err) {
      if (/no answer within/.test((err as Error).message)) timeouts++;
    }
    await sleep(PROBE_GAP_MS);
  }
  throw new Error(`127.0.0.1:${port} gave no 200 within ${STEP_LIMIT_MS} ms (${attempts} attempts)`);
}

function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePromise(address.port) : reject(new Error('no port'))));
    });
  });
}

// ---------------------------------------------------------------- machine load

function busyTicks(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system irq softirq steal
  return (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
}

/** Cores kept busy over `ms` (all processes; ours are idle while this runs). */
async function busyCores(ms: number): Promise<number> {
  const a = busyTicks();
  await sleep(ms);
  return (busyTicks() - a) / 100 / (ms / 1000);
}

class QuietWaiter {
  waitedMs = 0;
  constructor(
    private readonly maxCores: number,
    private budgetMs: number,
  ) {}

  /** Waits (from a shared budget) until other work uses less than maxCores; returns the load last seen. */
  async wait(): Promise<number> {
    let load = await busyCores(200);
    let announced = false;
    while (load > this.maxCores && this.budgetMs > 0) {
      if (!announced) log(`  machine busy (${fmt(load, 2)} cores used by other work): waiting (budget ${Math.round(this.budgetMs / 1000)} s left)`);
      announced = true;
      const began = performance.now();
      load = await busyCores(500);
      const spent = performance.now() - began;
      this.budgetMs -= spent;
      this.waitedMs += spent;
    }
    return load;
  }
}

// ---------------------------------------------------------------- engine call trace

interface EngineCall {
  method: string;
  path: string;
  startMs: number;
  endMs: number;
}

/**
 * Wraps a dockerode client's transport so each Engine API call is timed. Used on
 * the client berth's DockerRuntime uses, to see where a cold start spends its time.
 */
function traceClient(docker: Docker, calls: EngineCall[]): Docker {
  const modem = (docker as unknown as { modem: { dial: (opts: { method?: string; path?: string; isStream?: boolean }, cb: (...a: unknown[]) => void) => unknown } }).modem;
  const dial = modem.dial.bind(modem);
  modem.dial = (opts, cb) => {
    if (opts.isStream) return dial(opts, cb);
    const call: EngineCall = { method: opts.method ?? 'GET', path: (opts.path ?? '').replace(/[0-9a-f]{64}/g, '<id>').replace(/\?$/, ''), startMs: performance.now(), endMs: NaN };
    return dial(opts, (...args: unknown[]) => {
      call.endMs = performance.now();
      calls.push(call);
      cb(...args);
    });
  };
  return docker;
}

/** `/containers/<x>/json` → `inspect`, `/containers/<x>/start` → `start`, … */
function callName(c: EngineCall): string {
  const m = /^\/containers\/[^/]+\/(\w+)/.exec(c.path);
  if (m) return m[1] === 'json' ? 'inspect' : m[1]!;
  return `${c.method} ${c.path}`;
}

// ---------------------------------------------------------------- engine events

interface SeenEvent {
  action: string;
  app: string;
  container: string;
  phase: string;
}

/** Follows the engine's container events for this run's objects, tagging each with the phase it arrived in. */
class EventLog {
  readonly events: SeenEvent[] = [];
  phase = 'setup';
  private stream?: Readable;

  async open(docker: Docker, runLabel: string): Promise<void> {
    const stream = (await docker.getEvents({ filters: { type: ['container'], label: [runLabel] } })) as Readable;
    this.stream = stream;
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (!line) continue;
        try {
          const msg = JSON.parse(line) as { Action?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } };
          this.events.push({
            action: msg.Action ?? '',
            app: msg.Actor?.Attributes?.['berth.app'] ?? msg.Actor?.Attributes?.['berth.bench.role'] ?? '',
            container: msg.Actor?.ID ?? '',
            phase: this.phase,
          });
        } catch {
          // not an event line
        }
      }
    });
    stream.on('error', () => undefined);
  }

  count(action: string, phase: string, app?: string): number {
    return this.events.filter((e) => e.action === action && e.phase === phase && (app === undefined || e.app === app)).length;
  }

  close(): void {
    this.stream?.destroy();
  }
}

// ---------------------------------------------------------------- the run

interface FloorRun {
  ms: number;
  engineMs: number;
  pollMs: number;
  attempts: number;
  timeouts: number;
  load: number;
}

interface BerthRun {
  ms: number;
  /** The activator's own figure: start began → ready. */
  lastStartMs?: number;
  /** Engine API calls during the run, relative to the request being sent. */
  calls: Array<{ call: string; at: number; ms: number }>;
  /** From the request being sent until berth called the engine's start (or unpause). */
  beforeCallMs: number;
  /** From that call's answer to the response: port lookup, readiness wait, proxying. */
  afterCallMs: number;
  starts: number;
  load: number;
}

interface BurstResult {
  requests: number;
  ok: number;
  failed: number;
  statuses: Record<string, number>;
  errors: Record<string, number>;
  starts: number;
  /** How long the client took to hand all requests to the socket layer. */
  sentMs: number;
  firstMs: number;
  lastMs: number;
  latency: Summary;
  /** Requests served a second or more after the burst: usually a SYN dropped by a full accept queue and resent. */
  servedAfter1s: number;
  /** berth's own figure for that start: start began → ready. */
  lastStartMs?: number;
  /** Cores other work used just before the burst. */
  load: number;
  /** The kernel's TcpExt ListenOverflows during the burst (whole network namespace): connections a full accept queue refused. */
  listenOverflows?: number;
  /** The same counter inside the app container's network namespace (fresh at each start): the app's own accept queue. */
  appListenOverflows?: number;
  servedMs: number[];
}

/** TcpExt ListenOverflows of a network namespace (the host's by default), or undefined where unreadable. */
function listenOverflows(netstat = '/proc/net/netstat'): number | undefined {
  try {
    const lines = readFileSync(netstat, 'utf8').split('\n').filter((l) => l.startsWith('TcpExt:'));
    const names = lines[0]?.split(/\s+/) ?? [];
    const values = lines[1]?.split(/\s+/) ?? [];
    const i = names.indexOf('ListenOverflows');
    return i > 0 ? Number(values[i]) : undefined;
  } catch {
    return undefined;
  }
}

class Bench {
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
    this.labels = { 'berth.bench': 'true', 'berth.bench.run': options.runId };
    this.runLabel = `berth.bench.run=${options.runId}`;
    this.docker = createDockerClient(resolveDockerEndpoint());
    this.quiet = new QuietWaiter(options.quietCores, options.quietBudgetMs);
    const id = options.runId;
    this.apps = { stop: `bench-${id}-stop`, pause: `bench-${id}-pause`, burst: `bench-${id}-burst` };
  }

  // ------------------------------------------------------------ setup

  async setup(): Promise<void> {
    await this.docker.ping();
    const image = await this.docker.getImage(IMAGE).inspect().catch(() => undefined);
    if (!image) throw new Error(`image ${IMAGE} is not on this engine: run 'bash scripts/build-test-images.sh' (nothing is pulled)`);
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

    const runtime = new DockerRuntime({ extraLabels: this.labels });
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
    // Like berth's own containers (same image, --init, loopback-published port), but
    // not berth's: no berth.managed label, and a fixed host port so no lookup is needed.
    const key = `${APP_PORT}/tcp`;
    return this.docker.createContainer({
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
      },
    });
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
    const c = this.floorStop!;
    const load = await this.settle();
    const t0 = performance.now();
    await c.start();
    const engineMs = performance.now() - t0;
    const poll = await pollUntil200(this.floorStopPort, t0);
    const run: FloorRun = { ms: poll.ms, engineMs, pollMs: poll.ms - engineMs, attempts: poll.attempts, timeouts: poll.timeouts, load };
    await c.stop({ t: 10 });
    return run;
  }

  async floorPauseRun(): Promise<FloorRun> {
    const c = this.floorPause!;
    const load = await this.settle();
    const t0 = performance.now();
    await c.unpause();
    const engineMs = performance.now() - t0;
    const poll = await pollUntil200(this.floorPausePort, t0);
    const run: FloorRun = { ms: poll.ms, engineMs, pollMs: poll.ms - engineMs, attempts: poll.attempts, timeouts: poll.timeouts, load };
    await c.pause();
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
    const filters = { label: [this.runLabel] };
    const containers = await this.docker.listContainers({ all: true, filters }).catch(() => []);
    await Promise.all(containers.map((c) => this.docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
    const volumes = (await this.docker.listVolumes({ filters }).catch(() => ({ Volumes: [] }))).Volumes ?? [];
    await Promise.all(volumes.map((v) => this.docker.getVolume(v.Name).remove().catch(() => undefined)));
    const networks = await this.docker.listNetworks({ filters }).catch(() => []);
    await Promise.all(networks.map((n) => this.docker.getNetwork(n.Id).remove().catch(() => undefined)));
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
    return `${containers.length} containers, ${volumes.length} volumes, ${networks.length} networks`;
  }
}

// ---------------------------------------------------------------- report

interface Pair {
  floor: FloorRun[];
  berth: BerthRun[];
}

/** How long berth's run spent in the engine call that does the work (start or unpause). */
function mainCallMs(r: BerthRun, call: string): number {
  return r.calls.filter((c) => c.call === call).reduce((a, c) => a + c.ms, 0);
}

/**
 * The engine's start call alone varies by a few hundred ms from run to run (on a
 * busy 2-core machine), which swamps a difference of a few ms. So besides the
 * plain difference, berth's own cost is given with that call taken out of both
 * sides: berth's time minus its start/unpause call, against the floor's time
 * after its start/unpause call returned.
 */
function pairFigures(p: Pair, call: string) {
  const floor = summary(p.floor.map((r) => r.ms));
  const berth = summary(p.berth.map((r) => r.ms));
  const paired = p.berth.map((b, i) => b.ms - p.floor[i]!.ms);
  const floorRest = summary(p.floor.map((r) => r.pollMs));
  const berthRest = summary(p.berth.map((r) => r.ms - mainCallMs(r, call)));
  return {
    floor,
    berth,
    differenceOfMediansMs: round(berth.median - floor.median),
    pairedDifference: summary(paired),
    ratioOfMedians: round(berth.median / floor.median, 3),
    excludingEngineCall: {
      call,
      floorAfterCall: floorRest,
      berthWithoutCall: berthRest,
      differenceOfMediansMs: round(berthRest.median - floorRest.median),
    },
  };
}

/** Median time of each kind of engine call berth made per run, and its count per run. */
function callBreakdown(runs: readonly BerthRun[]): Record<string, { perRun: number; medianMs: number }> {
  const by = new Map<string, number[]>();
  for (const r of runs) for (const c of r.calls) by.set(c.call, [...(by.get(c.call) ?? []), c.ms]);
  const out: Record<string, { perRun: number; medianMs: number }> = {};
  for (const [k, v] of by) out[k] = { perRun: round(v.length / runs.length), medianMs: round(percentile(v, 50)) };
  return out;
}

function printReport(result: ReturnType<typeof buildResult>): void {
  const line = (cells: string[], widths: number[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const widths = [34, 7, 8, 8, 8, 8];
  const out: string[] = [];
  out.push('');
  out.push(`berth cold start, ${result.runs} measured runs each (after ${result.warmup} warm-up), ${IMAGE}, engine ${result.machine.engine}`);
  if (result.bootDelayMs > 0) out.push(`the cold-start app waits ${result.bootDelayMs} ms before listening (STARTUP_DELAY_MS), floor and berth alike`);
  out.push(line(['', 'n', 'median', 'p90', 'min', 'max'], widths));
  const row = (name: string, s: Summary) => out.push(line([name, String(s.n), fmt(s.median), fmt(s.p90), fmt(s.min), fmt(s.max)], widths));
  const c = result.coldStart;
  const w = result.wakeFromPause;
  row('engine floor: start → first 200', c.floor);
  row('berth: stopped → first 200', c.berth);
  row('  paired difference (berth − floor)', c.pairedDifference);
  row('  floor after its start call', c.excludingEngineCall.floorAfterCall);
  row('  berth without its start call', c.excludingEngineCall.berthWithoutCall);
  row('engine floor: unpause → first 200', w.floor);
  row('berth: paused → first 200', w.berth);
  row('  paired difference (berth − floor)', w.pairedDifference);
  row('  floor after its unpause call', w.excludingEngineCall.floorAfterCall);
  row('  berth without its unpause call', w.excludingEngineCall.berthWithoutCall);
  out.push('(milliseconds)');
  out.push('');
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  out.push(
    `cold start: berth − floor = ${fmt(c.differenceOfMediansMs)} ms on the medians (paired median ${fmt(c.pairedDifference.median)} ms), ` +
      `berth/floor = ${fmt(c.ratioOfMedians, 3)}; target < 10 ms: ${verdict(c.targetMet)}`,
  );
  out.push(
    `  berth's own cost with the engine's start call taken out of both sides: ${fmt(c.excludingEngineCall.differenceOfMediansMs)} ms ` +
      `(${fmt(c.excludingEngineCall.berthWithoutCall.median)} vs ${fmt(c.excludingEngineCall.floorAfterCall.median)}); ` +
      `target < 10 ms: ${verdict(c.targetMetExcludingEngineCall)}`,
  );
  out.push(
    `wake from pause: berth ${fmt(w.berth.median)} ms median end to end (floor ${fmt(w.floor.median)} ms, difference ${fmt(w.differenceOfMediansMs)} ms); ` +
      `target < 25 ms: ${verdict(w.targetMet)}`,
  );
  const b = result.burst;
  out.push(
    `${b.requests} concurrent cold requests: ${b.starts} engine start(s), ${b.ok} served 200, ${b.failed} failed; ` +
      `first served at ${fmt(b.firstMs)} ms, last at ${fmt(b.lastMs)} ms (median ${fmt(b.latency.median)}, p90 ${fmt(b.latency.p90)})` +
      (b.failed > 0 ? `; statuses ${JSON.stringify(b.statuses)}, errors ${JSON.stringify(b.errors)}` : ''),
  );
  out.push(
    `  berth's start of that app took ${fmt(b.lastStartMs ?? NaN)} ms (lastStartMs); the client handed all requests to the kernel within ${fmt(b.sentMs)} ms; ` +
      `other work on the machine used ${fmt(b.load, 2)} cores just before`,
  );
  if ((b.listenOverflows ?? 0) > 0 || (b.appListenOverflows ?? 0) > 0) {
    out.push(
      `  accept queues overflowed: ${b.listenOverflows ?? '?'} times on the host (berth's listener, docker-proxy), ${b.appListenOverflows ?? '?'} times in the app's container; ` +
        `a dropped SYN is resent after 1 s (${b.servedAfter1s} requests were served 1 s or more after the burst began)`,
    );
  }
  out.push('');
  out.push('where berth\'s cold start goes (medians per run):');
  out.push(`  floor: engine start call ${fmt(result.breakdown.floorStartCallMs)} ms, then ${fmt(result.breakdown.floorPollMs)} ms polling (${fmt(result.breakdown.floorAttempts, 0)} attempts)`);
  for (const [k, v] of Object.entries(result.breakdown.berthEngineCalls)) out.push(`  berth: ${v.perRun}× ${k}, ${fmt(v.medianMs)} ms each`);
  out.push(`  berth: first engine call ${fmt(result.breakdown.berthBeforeEngineMs)} ms after the request was sent, start call ${fmt(result.breakdown.berthBeforeStartCallMs)} ms after it`);
  out.push(`  berth: from the start call's answer to the response (port lookup, readiness polling, proxying) ${fmt(result.breakdown.berthAfterStartCallMs)} ms; activator's lastStartMs ${fmt(result.breakdown.berthLastStartMs)} ms`);
  out.push(`  floor: engine unpause call ${fmt(result.breakdown.floorUnpauseCallMs)} ms, then ${fmt(result.breakdown.floorUnpausePollMs)} ms polling`);
  out.push(
    `  pause: berth engine calls ${Object.entries(result.breakdown.pauseEngineCalls).map(([k, v]) => `${v.perRun}× ${k} ${fmt(v.medianMs)} ms`).join(', ')}; ` +
      `unpause called ${fmt(result.breakdown.pauseBeforeUnpauseCallMs)} ms after the request, response ${fmt(result.breakdown.pauseAfterUnpauseCallMs)} ms after its answer`,
  );
  const odd = result.berthStartsPerRun.filter((n) => n !== 1).length;
  out.push(odd === 0 ? '  every measured berth run caused exactly one engine start/unpause' : `  WARNING: ${odd} berth runs did not cause exactly one engine start/unpause`);
  out.push(
    `other work on the machine just before each run: median ${fmt(result.machine.otherWorkCores.median, 2)} cores, max ${fmt(result.machine.otherWorkCores.max, 2)} ` +
      `(of ${result.machine.cpus}); waited ${fmt(result.machine.quietWaitS)} s in all for it to settle`,
  );
  process.stdout.write(out.join('\n') + '\n');
}

function buildResult(bench: Bench, stop: Pair, pause: Pair, burst: BurstResult, engine: string, started: Date) {
  const coldStart = pairFigures(stop, 'start');
  const wake = pairFigures(pause, 'unpause');
  const med = (xs: number[]) => round(percentile(xs, 50));
  const startEnd = stop.berth.map((r) => {
    const s = r.calls.find((c) => c.call === 'start');
    return s ? s.at + s.ms : NaN;
  });
  return {
    benchmark: 'cold-start',
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    runId: bench.options.runId,
    image: IMAGE,
    runs: bench.options.runs,
    warmup: bench.options.warmup,
    settleMs: bench.options.settleMs,
    bootDelayMs: bench.options.bootDelayMs,
    units: 'ms',
    percentiles: 'linear interpolation between closest ranks',
    machine: {
      cpus: cpus().length,
      loadavgAtEnd: loadavg().map((x) => round(x)),
      engine,
      node: process.version,
      quietWaitS: round(bench.quiet.waitedMs / 1000),
      /** Cores used by other work on the machine just before each measured run (median, max). */
      otherWorkCores: {
        median: med([...stop.floor, ...stop.berth, ...pause.floor, ...pause.berth].map((r) => r.load)),
        max: round(Math.max(...[...stop.floor, ...stop.berth, ...pause.floor, ...pause.berth].map((r) => r.load))),
      },
    },
    coldStart: {
      ...coldStart,
      targetMs: 10,
      targetMet: coldStart.differenceOfMediansMs < 10,
      targetMetExcludingEngineCall: coldStart.excludingEngineCall.differenceOfMediansMs < 10,
    },
    wakeFromPause: { ...wake, targetMs: 25, targetMet: wake.berth.median < 25 },
    burst,
    breakdown: {
      floorStartCallMs: med(stop.floor.map((r) => r.engineMs)),
      floorPollMs: med(stop.floor.map((r) => r.pollMs)),
      floorAttempts: med(stop.floor.map((r) => r.attempts)),
      floorProbeTimeouts: stop.floor.reduce((a, r) => a + r.timeouts, 0),
      floorUnpauseCallMs: med(pause.floor.map((r) => r.engineMs)),
      berthEngineCalls: callBreakdown(stop.berth),
      berthBeforeEngineMs: med(stop.berth.map((r) => r.calls[0]?.at ?? NaN)),
      berthBeforeStartCallMs: med(stop.berth.map((r) => r.beforeCallMs)),
      berthStartCallEndMs: med(startEnd.filter(Number.isFinite)),
      berthAfterStartCallMs: med(stop.berth.map((r) => r.afterCallMs)),
      berthLastStartMs: med(stop.berth.map((r) => r.lastStartMs ?? NaN).filter(Number.isFinite)),
      pauseEngineCalls: callBreakdown(pause.berth),
      floorUnpausePollMs: med(pause.floor.map((r) => r.pollMs)),
      pauseBeforeUnpauseCallMs: med(pause.berth.map((r) => r.beforeCallMs)),
      pauseAfterUnpauseCallMs: med(pause.berth.map((r) => r.afterCallMs)),
      pauseLastStartMs: med(pause.berth.map((r) => r.lastStartMs ?? NaN).filter(Number.isFinite)),
    },
    berthStartsPerRun: [...stop.berth, ...pause.berth].map((r) => r.starts),
    raw: {
      coldStart: { floor: stop.floor.map(rounded), berth: stop.berth.map(rounded) },
      wakeFromPause: { floor: pause.floor.map(rounded), berth: pause.berth.map(rounded) },
    },
  };
}

function rounded<T extends object>(r: T): T {
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? round(v) : v])) as T;
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const bench = new Bench(options);
  const started = new Date();
  let cleaning: Promise<string> | undefined;
  const cleanup = () => (cleaning ??= bench.cleanup());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: cleaning up`);
      const force = setTimeout(() => process.exit(130), 20_000);
      force.unref();
      void cleanup()
        .then((removed) => log(`cleaned up: ${removed} removed`))
        .finally(() => process.exit(130));
    });
  }
  try {
    log(`run ${options.runId}: ${options.runs} runs (+${options.warmup} warm-up) per series, burst ${options.burst}`);
    await bench.setup();
    const version = await bench.docker.version().then((v) => v.Version, () => '?');
    const total = options.warmup + options.runs;

    const stop: Pair = { floor: [], berth: [] };
    log('cold start: floor (engine start) and berth (stopped app), interleaved');
    for (let i = 0; i < total; i++) {
      const floorFirst = i % 2 === 0;
      let f: FloorRun;
      let b: BerthRun;
      if (floorFirst) {
        f = await bench.floorStopRun();
        b = await bench.berthRun(bench.apps.stop, '/stop/', 'stopped');
      } else {
        b = await bench.berthRun(bench.apps.stop, '/stop/', 'stopped');
        f = await bench.floorStopRun();
      }
      const tag = i < options.warmup ? 'warm-up' : `run ${i - options.warmup + 1}/${options.runs}`;
      log(`  ${tag}: floor ${fmt(f.ms)} ms (start call ${fmt(f.engineMs)}), berth ${fmt(b.ms)} ms (lastStartMs ${b.lastStartMs ?? '-'}, starts ${b.starts})`);
      if (i >= options.warmup) {
        stop.floor.push(f);
        stop.berth.push(b);
      }
    }

    const pause: Pair = { floor: [], berth: [] };
    log('wake from pause: floor (engine unpause) and berth (paused app), interleaved');
    // The first request starts the app; berth then pauses it after the idle timeout.
    await bench.berthRun(bench.apps.pause, '/pause/', 'paused', 'stopped');
    for (let i = 0; i < total; i++) {
      const floorFirst = i % 2 === 0;
      let f: FloorRun;
      let b: BerthRun;
      if (floorFirst) {
        f = await bench.floorPauseRun();
        b = await bench.berthRun(bench.apps.pause, '/pause/', 'paused');
      } else {
        b = await bench.berthRun(bench.apps.pause, '/pause/', 'paused');
        f = await bench.floorPauseRun();
      }
      const tag = i < options.warmup ? 'warm-up' : `run ${i - options.warmup + 1}/${options.runs}`;
      log(`  ${tag}: floor ${fmt(f.ms)} ms (unpause call ${fmt(f.engineMs)}), berth ${fmt(b.ms)} ms (unpauses ${b.starts})`);
      if (i >= options.warmup) {
        pause.floor.push(f);
        pause.berth.push(b);
      }
    }

    log(`burst: ${options.burst} concurrent requests to a stopped app`);
    // One start and idle stop first, so the burst does not pay a fresh container's first start.
    await bench.berthRun(bench.apps.burst, '/burst/', 'stopped');
    const burst = await bench.burstRun(options.burst);
    log(`  ${burst.ok}/${burst.requests} served, ${burst.starts} start(s), last at ${fmt(burst.lastMs)} ms`);

    const result = buildResult(bench, stop, pause, burst, version, started);
    await mkdir(dirname(options.json), { recursive: true });
    const stamped = join(dirname(options.json), `cold-start-${started.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}.json`);
    await writeFile(stamped, JSON.stringify(result, null, 2) + '\n');
    await copyFile(stamped, options.json);
    printReport(result);
    log(`wrote ${options.json} (and ${stamped})`);
  } finally {
    const removed = await cleanup();
    log(`cleaned up: ${removed} removed`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
