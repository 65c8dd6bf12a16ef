/**
 * Replicas benchmark: throughput through berth with 1, 2 and 4 replicas of an
 * app, against nginx balancing the very same replicas, in the same run; then
 * the failed requests during blue/green updates under load. Run it with
 * `bash bench/replicas.sh` (which makes sure the engine, the test image, wrk,
 * nginx and the build are there, and cleans up after a crash).
 *
 *   node dist/bench/replicas.js      (knobs: environment, see replicas.sh)
 *
 * 1. berth's real gateway runs as a process of its own (dist/bench/replicas-gateway.js:
 *    SqliteStore, DockerRuntime, proxy and admin API; containers labelled
 *    berth.bench=true). The benchmark creates one app through the admin API
 *    (`POST /v1/apps`, `berth-test/app:latest`, `scale: {min: 1, max: 4}`, routed at
 *    /r/) and sets its replica count through the API (`POST /v1/apps/<name>/scale`).
 * 2. For each replica count N it reads the replicas' published ports from the
 *    engine (containers labelled berth.app=<name>) and starts nginx (one worker)
 *    with an `upstream` of exactly those 127.0.0.1 ports (least_conn, or round-robin
 *    to match BENCH_BALANCE; keepalive 64). Both proxies are warmed up, then
 *    measured with wrk, interleaved, in each CPU placement:
 *      shared  no pinning: the scheduler spreads everything over the machine's cores
 *      pinned  the proxy alone on CPU 1; wrk, the replicas and their docker-proxy on CPU 0
 *    Per run: req/s, p50/p99, the proxy's CPU time per request (/proc/<pid>/stat),
 *    the replicas' CPU (their cgroups), docker-proxy's and wrk's, how busy each CPU
 *    was, and which part was the bottleneck.
 * 3. Blue/green under load: N=2, a keep-alive load (BENCH_UPDATE_CLIENTS clients
 *    in a process of their own) on /r/echo; while it runs, a changed spec (env)
 *    is applied through the admin API. Every non-2xx answer and socket error is
 *    counted, and the switch is timed from the apply and from what the clients saw.
 *
 * Everything it creates carries `berth.bench=true` and `berth.bench.run=<id>` and is
 * removed on exit, failure and SIGINT/SIGTERM. Every loop and wait is bounded.
 */
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { appendFileSync, readFileSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { createDockerClient, resolveDockerEndpoint } from '../src/runtime/docker/client.js';
import type { LoadRecord } from './replicas-load.js';

const execFileP = promisify(execFile);
const HERE = dirname(fileURLToPath(import.meta.url)); // dist/bench
const ROOT = resolve(HERE, '../..');
const IMAGE = 'berth-test/app:latest';
const APP_PORT = 8080;
const PREFIX = '/r/';
/** No single wait (a scale, an apply, a process start) may take longer than this. */
const STEP_LIMIT_MS = 120_000;

// ---------------------------------------------------------------- options

type Placement = 'shared' | 'pinned';
type Target = 'berth' | 'nginx';

interface Options {
  runId: string;
  replicas: number[];
  placements: Placement[];
  durationS: number;
  warmupS: number;
  connections: number;
  threads: number;
  rounds: number;
  balance: 'least-connections' | 'round-robin';
  quietCores: number;
  quietBudgetMs: number;
  retries: number;
  updates: number;
  updateClients: number;
  updateLeadMs: number;
  updateTailMs: number;
  json: string;
  tmp?: string;
  logLevel: string;
}

function seconds(v: string, what: string): number {
  const m = /^(\d+)(s|m)?$/.exec(v.trim());
  if (!m) throw new Error(`${what} must be like 8s or 1m, got '${v}'`);
  return Number(m[1]) * (m[2] === 'm' ? 60 : 1);
}

function parseOptions(): Options {
  const env = process.env;
  const int = (value: string | undefined, fallback: number, min: number, max: number, what: string): number => {
    if (value === undefined || value === '') return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${what} must be a whole number from ${min} to ${max}, got '${value}'`);
    return n;
  };
  const runId = env.BENCH_RUN_ID || randomBytes(4).toString('hex');
  if (!/^[a-z0-9]{4,16}$/.test(runId)) throw new Error(`BENCH_RUN_ID must be 4-16 lowercase letters or digits, got '${runId}'`);
  const replicas = (env.BENCH_REPLICAS ?? '1 2 4').trim().split(/[\s,]+/).map((x) => int(x, 1, 1, 8, 'BENCH_REPLICAS entries'));
  const multiCore = cpus().length >= 2;
  const pin = (env.BENCH_PIN ?? '1') !== '0';
  let placements = (env.BENCH_PLACEMENTS ?? 'shared pinned').trim().split(/[\s,]+/) as Placement[];
  for (const p of placements) if (p !== 'shared' && p !== 'pinned') throw new Error(`BENCH_PLACEMENTS: unknown placement '${p}' (shared, pinned)`);
  if (!pin || !multiCore) placements = placements.filter((p) => p === 'shared');
  if (placements.length === 0) placements = ['shared'];
  const balance = env.BENCH_BALANCE ?? 'least-connections';
  if (balance !== 'least-connections' && balance !== 'round-robin') throw new Error(`BENCH_BALANCE must be least-connections or round-robin, got '${balance}'`);
  const durationS = seconds(env.BENCH_DURATION ?? '8s', 'BENCH_DURATION');
  if (durationS < 1 || durationS > 300) throw new Error('BENCH_DURATION must be from 1s to 5m');
  return {
    runId,
    replicas: [...new Set(replicas)],
    placements: [...new Set(placements)],
    durationS,
    warmupS: seconds(env.BENCH_WARMUP ?? '2s', 'BENCH_WARMUP'),
    connections: int(env.BENCH_CONNECTIONS, 64, 1, 4096, 'BENCH_CONNECTIONS'),
    threads: int(env.BENCH_THREADS, 1, 1, 16, 'BENCH_THREADS'),
    rounds: int(env.BENCH_ROUNDS, 3, 1, 20, 'BENCH_ROUNDS'),
    balance,
    quietCores: Number(env.BENCH_QUIET_CORES ?? '0.2'),
    quietBudgetMs: int(env.BENCH_QUIET_BUDGET, 180, 0, 3600, 'BENCH_QUIET_BUDGET') * 1000,
    retries: int(env.BENCH_RETRIES, 1, 0, 5, 'BENCH_RETRIES'),
    updates: int(env.BENCH_UPDATES, 3, 0, 20, 'BENCH_UPDATES'),
    updateClients: int(env.BENCH_UPDATE_CLIENTS, 16, 1, 512, 'BENCH_UPDATE_CLIENTS'),
    updateLeadMs: int(env.BENCH_UPDATE_LEAD_MS, 2000, 0, 30_000, 'BENCH_UPDATE_LEAD_MS'),
    updateTailMs: int(env.BENCH_UPDATE_TAIL_MS, 2000, 0, 30_000, 'BENCH_UPDATE_TAIL_MS'),
    json: resolve(ROOT, env.BENCH_REPLICAS_JSON ?? 'bench/results/replicas-latest.json'),
    tmp: env.BENCH_TMPDIR || undefined,
    logLevel: env.BERTH_LOG_LEVEL ?? 'warn',
  };
}

const log = (msg: string): void => void process.stderr.write(`[replicas] ${msg}\n`);

// ---------------------------------------------------------------- small helpers

const round = (x: number, digits = 2): number => (Number.isFinite(x) ? Math.round(x * 10 ** digits) / 10 ** digits : x);
const fmt = (x: number | undefined, digits = 1): string => (x !== undefined && Number.isFinite(x) ? x.toFixed(digits) : '-');

/** Percentile with linear interpolation between closest ranks. */
function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}
const median = (values: readonly number[]): number => percentile(values, 50);

function freePort(): Promise<number> {
  return new Promise((ok, ko) => {
    const server = createServer();
    server.once('error', ko);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? ok(address.port) : ko(new Error('no port'))));
    });
  });
}

/** GET on a fresh connection; the status and body, or a rejection after `timeoutMs`. */
async function httpGet(port: number, path: string, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, body: await res.text() };
}

// ---------------------------------------------------------------- /proc

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a process (all its threads), in seconds; 0 when it is gone. */
function processCpuS(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // after "pid (comm) ": state is field 0, utime 11, stime 12
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // No CONFIG_PROC_CHILDREN: scan for the parent pid.
    const out: number[] = [];
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(d));
      } catch {
        // gone
      }
    }
    return out;
  }
}

function vmHwmKb(pid: number): number {
  try {
    return Number(/^VmHWM:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Busy ticks (user nice system irq softirq steal) of the whole machine and of each CPU. */
function cpuBusyTicks(): { all: number; each: number[] } {
  const lines = readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => l.startsWith('cpu'));
  const busy = (l: string) => {
    const f = l.trim().split(/\s+/).slice(1).map(Number);
    return (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  };
  return { all: busy(lines[0] ?? ''), each: lines.slice(1).map(busy) };
}

/** The docker-proxy processes forwarding the given host ports (one or more per port). */
function dockerProxyPids(ports: readonly number[]): Map<number, number[]> {
  const wanted = new Set(ports.map(String));
  const out = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (!argv[0]?.endsWith('docker-proxy')) continue;
    const i = argv.indexOf('-host-port');
    const port = i >= 0 ? argv[i + 1] : undefined;
    if (port && wanted.has(port)) out.set(Number(port), [...(out.get(Number(port)) ?? []), Number(d)]);
  }
  return out;
}

/** A container's CPU usage counter (ns) from its cgroup, found through its main process. */
function cgroupCpuReader(pid: number, id: string): () => number {
  const candidates: Array<{ file: string; v2: boolean }> = [];
  try {
    for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')) {
      const [, controllers, path] = line.split(':');
      if (controllers === undefined || path === undefined) continue;
      if (controllers.split(',').includes('cpuacct')) {
        candidates.push({ file: `/sys/fs/cgroup/cpuacct${path}/cpuacct.usage`, v2: false }, { file: `/sys/fs/cgroup/cpu,cpuacct${path}/cpuacct.usage`, v2: false });
      } else if (controllers === '' && line.startsWith('0::')) {
        candidates.push({ file: `/sys/fs/cgroup${path}/cpu.stat`, v2: true });
      }
    }
  } catch {
    // fall back to docker's usual cgroupfs paths
  }
  candidates.push({ file: `/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`, v2: false }, { file: `/sys/fs/cgroup/system.slice/docker-${id}.scope/cpu.stat`, v2: true });
  for (const c of candidates) {
    try {
      readFileSync(c.file, 'utf8');
    } catch {
      continue;
    }
    return () => {
      try {
        const text = readFileSync(c.file, 'utf8');
        if (!c.v2) return Number(text.trim());
        return Number(/^usage_usec (\d+)/m.exec(text)?.[1] ?? 0) * 1000;
      } catch {
        return 0;
      }
    };
  }
  throw new Error(`no readable cgroup CPU counter for container ${id.slice(0, 12)} (pid ${pid})`);
}

// ---------------------------------------------------------------- machine load

class QuietWaiter {
  waitedMs = 0;
  constructor(
    private readonly maxCores: number,
    private budgetMs: number,
  ) {}

  get budgetLeft(): boolean {
    return this.budgetMs > 0;
  }

  /** Waits (from a budget shared by the whole run) until other work uses less than maxCores over 1 s. */
  async wait(): Promise<number> {
    let load = await busyCores(1000);
    let announced = false;
    while (load > this.maxCores && this.budgetMs > 0) {
      if (!announced) log(`  machine busy (${fmt(load, 2)} cores used by other work): waiting (budget ${Math.round(this.budgetMs / 1000)} s left)`);
      announced = true;
      const began = performance.now();
      load = await busyCores(1000);
      const spent = performance.now() - began;
      this.budgetMs -= spent;
      this.waitedMs += spent;
    }
    if (announced) log(load <= this.maxCores ? '  machine quiet again' : '  quiet-wait budget spent: measuring anyway');
    return load;
  }
}

async function busyCores(ms: number): Promise<number> {
  const a = cpuBusyTicks().all;
  await sleep(ms);
  return (cpuBusyTicks().all - a) / CLK_TCK / (ms / 1000);
}

// ---------------------------------------------------------------- processes

/**
 * A process the benchmark started: `/usr/bin/time -v -o <file> cmd...`, so its peak
 * RSS is reported at the end; `pid` is the measured process (the child of time).
 * Its pid goes to <tmp>/pids, where replicas.sh's trap finds it after a crash.
 */
class Proc {
  readonly exited: Promise<number | null>;
  pid = 0;
  private stderrTail = '';

  constructor(
    readonly name: string,
    readonly wrapper: ChildProcess,
    readonly timeFile: string,
  ) {
    this.exited = new Promise((ok) => {
      if (wrapper.exitCode !== null) ok(wrapper.exitCode);
      else wrapper.once('exit', (code) => ok(code));
    });
    wrapper.stderr?.on('data', (c: Buffer) => (this.stderrTail = (this.stderrTail + c.toString()).slice(-4000)));
  }

  get running(): boolean {
    return this.wrapper.exitCode === null && this.wrapper.signalCode === null;
  }

  tail(): string {
    return this.stderrTail.trim().split('\n').slice(-8).join('\n');
  }

  /** The measured process and its children (nginx: master and worker). */
  pids(): number[] {
    return this.pid ? [this.pid, ...childrenOf(this.pid)] : [];
  }

  cpuS(): number {
    return this.pids().reduce((a, p) => a + processCpuS(p), 0);
  }

  /** TERM to the measured process (so time reports it), KILL after 8 s. */
  async stop(): Promise<void> {
    if (!this.running) return;
    const target = this.pid || this.wrapper.pid;
    try {
      if (target) process.kill(target, 'SIGTERM');
    } catch {
      // already gone
    }
    const done = await Promise.race([this.exited.then(() => true), sleep(8000).then(() => false)]);
    if (!done) {
      for (const p of [this.pid, this.wrapper.pid]) {
        try {
          if (p) process.kill(p, 'SIGKILL');
        } catch {
          // gone
        }
      }
      await Promise.race([this.exited, sleep(2000)]);
    }
  }
}

// ---------------------------------------------------------------- results

interface WrkJson {
  requests: number;
  duration_us: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  latency_us: { mean: number; p50: number; p90: number; p99: number; max: number };
}

interface Measurement {
  target: Target;
  replicas: number;
  placement: Placement;
  round: number;
  attempt: number;
  requests: number;
  durationS: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  errors: WrkJson['errors'];
  /** CPU time of the proxy's process(es) per request, µs. */
  proxyCpuUsPerRequest: number;
  proxyCores: number;
  replicasCores: number;
  replicaCoresEach: number[];
  dockerProxyCores: number;
  wrkCores: number;
  /** Busy fraction of each CPU over the run (all work, ours and others'). */
  cpuBusy: number[];
  otherCores: number;
  bottleneck: string;
}

interface Group {
  replicas: number;
  placement: Placement;
  berth: Summary;
  nginx: Summary;
  ratio: { throughput: number; cpuPerRequest: number; p50: number; p99: number };
  /** Other work used more than 0.3 cores during these runs (median): the figures are less reliable. */
  disturbed: boolean;
  note: string;
}

interface Summary {
  requestsPerSecond: number;
  rpsRange: [number, number];
  p50Ms: number;
  p99Ms: number;
  proxyCpuUsPerRequest: number;
  proxyCores: number;
  replicasCores: number;
  dockerProxyCores: number;
  wrkCores: number;
  cpuBusy: number[];
  /** Cores other work on the machine used during the runs (median). */
  otherCores: number;
  errors: number;
  bottleneck: string;
}

interface UpdateResult {
  update: number;
  env: Record<string, string>;
  applyStatus: number;
  action?: string;
  applyError?: string;
  applyMs: number;
  requests: number;
  ok: number;
  non2xx: number;
  non2xxByStatus: Record<string, number>;
  socketErrors: number;
  socketErrorsByCode: Record<string, number>;
  failedDuringApply: number;
  servedByUnknownInstance: number;
  oldInstances: number;
  newInstances: number;
  instancesAfter: number;
  allNewAfter: boolean;
  /** From the apply being sent: first answer from a new instance, last from an old one. */
  firstNewAnswerMs: number;
  lastOldAnswerMs: number;
  lastOldSentMs: number;
  /** First new answer − last old answer: positive, a pause without any answer at the switch; negative, both revisions answered for that long. */
  switchGapMs: number;
  /** Before: the last second before the apply; after: from its answer until the load stopped. */
  requestsPerSecond: { before: number; duringApply: number; after: number };
  latencyMs: { beforeP50: number; beforeP99: number; duringP50: number; duringP99: number; duringMax: number };
  /** Longest time without any answer, during the apply and in the second before it. */
  longestGapMs: { before: number; duringApply: number };
}

// ---------------------------------------------------------------- the benchmark

interface Replica {
  id: string;
  hostname: string;
  port: number;
  pid: number;
  cpuNs: () => number;
}

class Bench {
  readonly docker: Docker;
  readonly labels: Record<string, string>;
  readonly runLabel: string;
  readonly app: string;
  readonly token = randomBytes(24).toString('hex');
  readonly quiet: QuietWaiter;
  readonly procs: Proc[] = [];
  readonly cpuCount = cpus().length;
  readonly loadCpu = 0;
  readonly proxyCpu = 1;
  dir = '';
  private ownDir = false;
  gateway?: Proc;
  proxyPort = 0;
  adminPort = 0;
  nginx?: Proc;
  nginxPort = 0;
  load?: ChildProcess;
  revision = 1;
  /** Runs redone because other work disturbed them (kept for the record, not in the figures). */
  readonly redone: Measurement[] = [];

  constructor(readonly options: Options) {
    this.docker = createDockerClient(resolveDockerEndpoint());
    this.labels = { 'berth.bench': 'true', 'berth.bench.run': options.runId };
    this.runLabel = `berth.bench.run=${options.runId}`;
    this.app = `bench-${options.runId}`;
    this.quiet = new QuietWaiter(options.quietCores, options.quietBudgetMs);
  }

  get allCpus(): string {
    return `0-${this.cpuCount - 1}`;
  }

  // ------------------------------------------------------------ processes

  private async startProc(name: string, cmd: string, args: string[], opts: { stdout?: boolean } = {}): Promise<Proc> {
    const timeFile = join(this.dir, `${name}.time.txt`);
    const wrapper = spawn('/usr/bin/time', ['-v', '-o', timeFile, cmd, ...args], {
      stdio: ['ignore', opts.stdout ? 'pipe' : 'ignore', 'pipe'],
      cwd: ROOT,
      env: { ...process.env, BENCH_ADMIN_TOKEN: this.token, BERTH_LOG_LEVEL: this.options.logLevel },
    });
    const proc = new Proc(name, wrapper, timeFile);
    this.procs.push(proc);
    if (wrapper.pid) appendFileSync(join(this.dir, 'pids'), `${wrapper.pid} ${name}\n`);
    for (let i = 0; i < 100 && proc.running; i++) {
      const kids = wrapper.pid ? childrenOf(wrapper.pid) : [];
      if (kids[0]) {
        proc.pid = kids[0];
        appendFileSync(join(this.dir, 'pids'), `${proc.pid} ${name}\n`);
        break;
      }
      await sleep(20);
    }
    if (!proc.pid) throw new Error(`${name} did not start: ${proc.tail()}`);
    return proc;
  }

  private async waitListening(proc: Proc, port: number): Promise<void> {
    const deadline = performance.now() + 15_000;
    while (performance.now() < deadline) {
      if (!proc.running) throw new Error(`${proc.name} exited: ${proc.tail()}`);
      const ok = await httpGet(port, '/', 1000).then(
        () => true,
        () => false,
      );
      if (ok) return;
      await sleep(50);
    }
    throw new Error(`${proc.name} is not listening on 127.0.0.1:${port} after 15 s`);
  }

  /** taskset every thread of these processes to `cpus`. */
  private async pin(pids: readonly number[], cpuList: string): Promise<void> {
    await Promise.all(pids.map((pid) => execFileP('taskset', ['-a', '-p', '-c', cpuList, String(pid)]).catch(() => undefined)));
  }

  // ------------------------------------------------------------ setup

  async setup(): Promise<void> {
    await this.docker.ping();
    const image = await this.docker.getImage(IMAGE).inspect().catch(() => undefined);
    if (!image) throw new Error(`image ${IMAGE} is not on this engine: run 'bash scripts/build-test-images.sh' (nothing is pulled)`);
    if (this.options.tmp) {
      this.dir = await mkdtemp(join(this.options.tmp, 'run-'));
    } else {
      this.dir = await mkdtemp(join(tmpdir(), `berth-replicas-bench-${this.options.runId}-`));
      this.ownDir = true;
    }
    await writeFile(
      join(this.dir, 'berth.yaml'),
      ['listen: 127.0.0.1:0', 'admin: 127.0.0.1:0', 'store: ./berth.db', 'drainTimeout: 2s', 'policy:', '  images: ["berth-test/*"]', ''].join('\n'),
    );
    this.gateway = await this.startProc('berth', process.execPath, [join(HERE, 'replicas-gateway.js'), '--config', join(this.dir, 'berth.yaml'), '--run-id', this.options.runId], {
      stdout: true,
    });
    const lines = createInterface({ input: this.gateway.wrapper.stdout! });
    const first = (await Promise.race([once(lines, 'line'), this.gateway.exited.then(() => undefined), sleep(30_000).then(() => undefined)])) as [string] | undefined;
    if (!first) throw new Error(`the gateway did not start: ${this.gateway.tail()}`);
    const ports = JSON.parse(first[0]) as { proxyPort: number; adminPort: number };
    this.proxyPort = ports.proxyPort;
    this.adminPort = ports.adminPort;
    log(`gateway pid ${this.gateway.pid}: proxy 127.0.0.1:${this.proxyPort}, admin 127.0.0.1:${this.adminPort}`);

    const created = await this.api('POST', '/v1/apps', this.specYaml());
    if (created.status !== 200) throw new Error(`creating the app failed: ${created.status} ${created.text}`);
    await this.waitReplicas(1);
  }

  specYaml(): string {
    return [
      'apiVersion: berth/v1',
      `name: ${this.app}`,
      `image: ${IMAGE}`,
      `port: ${APP_PORT}`,
      `routes: [{path: ${PREFIX}, stripPrefix: true}]`,
      'readiness: {path: /healthz}',
      'scale: {min: 1, max: 4}',
      `balance: ${this.options.balance}`,
      'strategy: {type: blue-green}',
      'idleTimeout: 1h',
      'startTimeout: 30s',
      `env: {BENCH_REVISION: "${this.revision}"}`,
      '',
    ].join('\n');
  }

  async api(method: string, path: string, body?: string, contentType = 'application/yaml'): Promise<{ status: number; text: string; json: any }> {
    const res = await fetch(`http://127.0.0.1:${this.adminPort}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'content-type': contentType } : {}) },
      body,
      signal: AbortSignal.timeout(STEP_LIMIT_MS),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, text, json };
  }

  /** Running containers of the app (this run's), with their published port and CPU counter. */
  async replicaList(): Promise<Replica[]> {
    const list = await this.docker.listContainers({ filters: { label: [`berth.app=${this.app}`, this.runLabel], status: ['running'] } });
    const out: Replica[] = [];
    for (const c of list) {
      const info = await this.docker.getContainer(c.Id).inspect();
      const binding = info.NetworkSettings.Ports?.[`${APP_PORT}/tcp`]?.find((b) => b.HostIp === '127.0.0.1');
      const port = Number(binding?.HostPort);
      if (!(port > 0)) throw new Error(`container ${c.Id.slice(0, 12)} has no port published on 127.0.0.1`);
      out.push({ id: c.Id, hostname: info.Config.Hostname, port, pid: info.State.Pid, cpuNs: cgroupCpuReader(info.State.Pid, c.Id) });
    }
    return out.sort((a, b) => a.port - b.port);
  }

  /** Waits (bounded) until berth has `n` instances in rotation and the engine runs exactly `n`. */
  async waitReplicas(n: number): Promise<Replica[]> {
    const deadline = performance.now() + STEP_LIMIT_MS;
    let last = '';
    while (performance.now() < deadline) {
      const view = await this.api('GET', `/v1/apps/${this.app}`);
      const ready = view.json?.status?.readyInstances as number | undefined;
      const list = await this.docker.listContainers({ filters: { label: [`berth.app=${this.app}`, this.runLabel], status: ['running'] } });
      last = `berth says ${ready ?? '?'} ready (${view.json?.state ?? '?'}), engine runs ${list.length}`;
      if (ready === n && list.length === n) {
        // Every instance answers through berth before anything is measured.
        for (let i = 0; i < 4 * n; i++) {
          const r = await httpGet(this.proxyPort, `${PREFIX}ping`);
          if (r.status !== 200 || r.body !== 'pong') throw new Error(`berth ${PREFIX}ping answered ${r.status} ${r.body.slice(0, 200)}`);
        }
        return this.replicaList();
      }
      if (ready === undefined || ready === 0) await httpGet(this.proxyPort, `${PREFIX}ping`, 30_000).catch(() => undefined); // wakes a stopped app
      await sleep(200);
    }
    throw new Error(`${n} replicas not ready within ${STEP_LIMIT_MS / 1000} s: ${last}`);
  }

  async scale(n: number): Promise<Replica[]> {
    const r = await this.api('POST', `/v1/apps/${this.app}/scale`, JSON.stringify({ replicas: n }), 'application/json');
    if (r.status !== 200) throw new Error(`scale to ${n} failed: ${r.status} ${r.text}`);
    return this.waitReplicas(n);
  }

  // ------------------------------------------------------------ nginx

  async startNginx(replicas: readonly Replica[]): Promise<void> {
    await this.nginx?.stop();
    const dir = join(this.dir, `nginx-${replicas.length}`);
    await mkdir(dir, { recursive: true });
    this.nginxPort = await freePort();
    const conf = `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
worker_rlimit_nofile 65536;
events { worker_connections 8192; multi_accept on; }
http {
  access_log off;
  default_type text/plain;
  keepalive_requests 10000000;
  keepalive_timeout 65s;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream replicas {
${this.options.balance === 'least-connections' ? '    least_conn;\n' : ''}${replicas.map((r) => `    server 127.0.0.1:${r.port};`).join('\n')}
    keepalive 64;
    keepalive_requests 10000000;
  }
  server {
    listen 127.0.0.1:${this.nginxPort};
    location ${PREFIX} {
      proxy_pass http://replicas/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $http_host;
    }
  }
}
`;
    await writeFile(join(dir, 'nginx.conf'), conf);
    this.nginx = await this.startProc(`nginx-${replicas.length}`, 'nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir, '-e', join(dir, 'error.log')]);
    await this.waitListening(this.nginx, this.nginxPort);
    const r = await httpGet(this.nginxPort, `${PREFIX}ping`);
    if (r.status !== 200 || r.body !== 'pong') throw new Error(`nginx ${PREFIX}ping answered ${r.status} ${r.body.slice(0, 200)}`);
  }

  async stopNginx(): Promise<void> {
    await this.nginx?.stop();
    this.nginx = undefined;
  }

  // ------------------------------------------------------------ placement

  async place(placement: Placement, replicas: readonly Replica[]): Promise<void> {
    const proxies = [...(this.gateway?.pids() ?? []), ...(this.nginx?.pids() ?? [])];
    const dockerProxies = [...dockerProxyPids(replicas.map((r) => r.port)).values()].flat();
    const pinned = placement === 'pinned';
    await this.pin(proxies, pinned ? String(this.proxyCpu) : this.allCpus);
    await this.pin(dockerProxies, pinned ? String(this.loadCpu) : this.allCpus);
    await Promise.all(replicas.map((r) => this.docker.getContainer(r.id).update({ CpusetCpus: pinned ? String(this.loadCpu) : this.allCpus })));
  }

  // ------------------------------------------------------------ wrk

  async wrk(url: string, durationS: number, placement: Placement): Promise<{ json: WrkJson; cpuS: number; text: string }> {
    const cpuFile = join(this.dir, `wrk-${randomBytes(3).toString('hex')}.cpu`);
    const args = [
      '-f',
      '%U %S',
      '-o',
      cpuFile,
      'timeout',
      String(durationS + 30),
      'wrk',
      `-t${this.options.threads}`,
      `-c${this.options.connections}`,
      `-d${durationS}s`,
      '--timeout',
      '5s',
      '--latency',
      '-s',
      join(ROOT, 'bench/wrk-report.lua'),
      url,
    ];
    const child =
      placement === 'pinned'
        ? spawn('taskset', ['-c', String(this.loadCpu), '/usr/bin/time', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
        : spawn('/usr/bin/time', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid) appendFileSync(join(this.dir, 'pids'), `${child.pid} wrk\n`);
    let text = '';
    child.stdout!.on('data', (c: Buffer) => (text += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (text += c.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    if (code !== 0) throw new Error(`wrk exited with ${code}: ${text.slice(-500)}`);
    const line = text.split('\n').find((l) => l.startsWith('WRK_JSON '));
    if (!line) throw new Error(`wrk printed no WRK_JSON line: ${text.slice(-500)}`);
    const cpu = (await readFile(cpuFile, 'utf8').catch(() => '0 0')).trim().split(/\s+/).map(Number);
    await rm(cpuFile, { force: true });
    return { json: JSON.parse(line.slice('WRK_JSON '.length)) as WrkJson, cpuS: (cpu[0] ?? 0) + (cpu[1] ?? 0), text };
  }

  // ------------------------------------------------------------ one measured run

  async measure(target: Target, replicas: readonly Replica[], placement: Placement, roundNo: number): Promise<Measurement> {
    let m: Measurement | undefined;
    for (let attempt = 0; attempt <= this.options.retries; attempt++) {
      await this.place(placement, replicas);
      await this.quiet.wait();
      m = await this.measureOnce(target, replicas, placement, roundNo, attempt);
      const disturbed = m.otherCores > 0.3;
      log(
        `  ${target.padEnd(5)} N=${replicas.length} ${placement.padEnd(6)} round ${roundNo}: ${fmt(m.requestsPerSecond, 0)} req/s, p50 ${fmt(m.latencyMs.p50, 2)} ms, p99 ${fmt(m.latencyMs.p99, 2)} ms, ` +
          `${fmt(m.proxyCpuUsPerRequest)} µs CPU/req (proxy ${fmt(m.proxyCores, 2)} cores, replicas ${fmt(m.replicasCores, 2)}, docker-proxy ${fmt(m.dockerProxyCores, 2)}, wrk ${fmt(m.wrkCores, 2)}; other work ${fmt(m.otherCores, 2)})` +
          (m.errors.status + m.errors.connect + m.errors.read + m.errors.write + m.errors.timeout > 0 ? `; ERRORS ${JSON.stringify(m.errors)}` : ''),
      );
      if (!disturbed || attempt === this.options.retries || !this.quiet.budgetLeft) break;
      this.redone.push(m);
      log(`  other work used ${fmt(m.otherCores, 2)} cores during that run: redoing it`);
    }
    return m!;
  }

  private async measureOnce(target: Target, replicas: readonly Replica[], placement: Placement, roundNo: number, attempt: number): Promise<Measurement> {
    const proc = target === 'berth' ? this.gateway! : this.nginx!;
    const port = target === 'berth' ? this.proxyPort : this.nginxPort;
    const dp = [...dockerProxyPids(replicas.map((r) => r.port)).values()].flat();
    const replicaNs = () => replicas.map((r) => r.cpuNs());
    const dpS = () => dp.reduce((a, p) => a + processCpuS(p), 0);
    const b = { proxy: proc.cpuS(), replicas: replicaNs(), dp: dpS(), cpu: cpuBusyTicks(), t: performance.now() };
    const w = await this.wrk(`http://127.0.0.1:${port}${PREFIX}ping`, this.options.durationS, placement);
    const a = { proxy: proc.cpuS(), replicas: replicaNs(), dp: dpS(), cpu: cpuBusyTicks(), t: performance.now() };
    const wallS = (a.t - b.t) / 1000;
    const runS = w.json.duration_us / 1e6;
    const proxyS = a.proxy - b.proxy;
    const replicaS = a.replicas.map((x, i) => (x - b.replicas[i]!) / 1e9);
    const replicasS = replicaS.reduce((x, y) => x + y, 0);
    const dpCpuS = a.dp - b.dp;
    const machineS = (a.cpu.all - b.cpu.all) / CLK_TCK;
    const ours = proxyS + replicasS + dpCpuS + w.cpuS;
    const m: Measurement = {
      target,
      replicas: replicas.length,
      placement,
      round: roundNo,
      attempt,
      requests: w.json.requests,
      durationS: round(runS, 3),
      requestsPerSecond: round(w.json.requests / runS, 1),
      latencyMs: {
        p50: round(w.json.latency_us.p50 / 1000, 3),
        p90: round(w.json.latency_us.p90 / 1000, 3),
        p99: round(w.json.latency_us.p99 / 1000, 3),
        max: round(w.json.latency_us.max / 1000, 3),
      },
      errors: w.json.errors,
      proxyCpuUsPerRequest: round((proxyS * 1e6) / Math.max(1, w.json.requests), 1),
      proxyCores: round(proxyS / wallS, 3),
      replicasCores: round(replicasS / wallS, 3),
      replicaCoresEach: replicaS.map((x) => round(x / wallS, 3)),
      dockerProxyCores: round(dpCpuS / wallS, 3),
      wrkCores: round(w.cpuS / wallS, 3),
      cpuBusy: a.cpu.each.map((x, i) => round((x - (b.cpu.each[i] ?? 0)) / CLK_TCK / wallS, 3)),
      otherCores: round(Math.max(0, (machineS - ours) / wallS), 3),
      bottleneck: '',
    };
    m.bottleneck = this.bottleneck(m);
    return m;
  }

  /**
   * Which part of the setup limited the run, from where the CPU went. Pinned: the
   * load core at ≥ 95 % (nginx drives it there) is the limit; otherwise the proxy,
   * when it kept its own core ≥ 80 % busy (a single-threaded proxy that is the
   * slowest stage of the chain rarely reaches 100 %: it waits while the replicas
   * work on its last batch). Shared: the machine when its cores were ≥ 85 % busy.
   */
  bottleneck(m: Measurement): string {
    const parts = `replicas ${fmt(m.replicasCores, 2)}, docker-proxy ${fmt(m.dockerProxyCores, 2)}, ${m.target} ${fmt(m.proxyCores, 2)}, wrk ${fmt(m.wrkCores, 2)} cores`;
    const busy = m.cpuBusy.map((x) => `${fmt(x * 100, 0)}`).join('/');
    const busiestReplica = Math.max(...m.replicaCoresEach);
    if (m.placement === 'pinned') {
      const proxyCore = m.cpuBusy[this.proxyCpu] ?? 0;
      const loadCore = m.cpuBusy[this.loadCpu] ?? 0;
      const load = `replicas ${fmt(m.replicasCores, 2)} + docker-proxy ${fmt(m.dockerProxyCores, 2)} + wrk ${fmt(m.wrkCores, 2)}`;
      if (loadCore >= 0.95) return `the load core (${fmt(loadCore * 100, 0)} % busy: ${load})`;
      if (proxyCore >= 0.8 && m.proxyCores >= 0.7) return `the proxy (its core ${fmt(proxyCore * 100, 0)} % busy, ${fmt(m.proxyCores, 2)} cores of it the proxy's; the load core ${fmt(loadCore * 100, 0)} %)`;
      return `no core saturated (CPUs ${busy} % busy; ${parts})`;
    }
    const mean = m.cpuBusy.reduce((a, b) => a + b, 0) / Math.max(1, m.cpuBusy.length);
    if (m.replicas === 1 && busiestReplica >= 0.85) return `the replica (one single-threaded node process at ${fmt(busiestReplica, 2)} cores)`;
    if (mean >= 0.85) return `the machine (its ${m.cpuBusy.length} cores ${fmt(mean * 100, 0)} % busy: ${parts}, other work ${fmt(m.otherCores, 2)})`;
    if (m.proxyCores >= 0.85) return `the proxy (single-threaded, ${fmt(m.proxyCores, 2)} cores)`;
    return `no core saturated (CPUs ${busy} % busy; ${parts})`;
  }

  // ------------------------------------------------------------ blue/green

  async updateUnderLoad(i: number): Promise<UpdateResult> {
    const before = await this.replicaList();
    const oldHosts = new Set(before.map((r) => r.hostname));
    await this.place('shared', before);
    await this.quiet.wait();
    const child = spawn(
      process.execPath,
      [join(HERE, 'replicas-load.js'), '--port', String(this.proxyPort), '--path', `${PREFIX}echo`, '--clients', String(this.options.updateClients), '--max-ms', '90000', '--run-id', this.options.runId],
      { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    this.load = child;
    if (child.pid) appendFileSync(join(this.dir, 'pids'), `${child.pid} load\n`);
    const messages: Array<{ type: string; result?: LoadRecord }> = [];
    const waiters: Array<() => void> = [];
    child.on('message', (m: { type: string; result?: LoadRecord }) => {
      messages.push(m);
      for (const w of waiters.splice(0)) w();
    });
    const next = async (type: string, ms: number) => {
      const deadline = performance.now() + ms;
      while (performance.now() < deadline) {
        const m = messages.find((x) => x.type === type);
        if (m) return m;
        if (child.exitCode !== null) break;
        await Promise.race([new Promise<void>((ok) => waiters.push(ok)), sleep(200)]);
      }
      throw new Error(`load client: no '${type}' message (exit ${child.exitCode})`);
    };
    try {
      await next('ready', 10_000);
      await sleep(this.options.updateLeadMs);
      this.revision++;
      const env = { BENCH_REVISION: String(this.revision) };
      const applyStart = performance.timeOrigin + performance.now();
      const applied = await this.api('POST', '/v1/apps', this.specYaml());
      const applyEnd = performance.timeOrigin + performance.now();
      await sleep(this.options.updateTailMs);
      child.send('stop');
      const done = await next('done', 30_000);
      const rec = done.result!;
      const after = await this.replicaList();
      const newHosts = new Set(after.map((r) => r.hostname));
      const afterInfo = await Promise.all(after.map((r) => this.docker.getContainer(r.id).inspect()));
      const allNew = after.every((r) => !oldHosts.has(r.hostname)) && afterInfo.every((c) => c.Config.Env.includes(`BENCH_REVISION=${this.revision}`));
      const result = analyseUpdate(i, rec, { applyStart, applyEnd, oldHosts, newHosts });
      const r0 = applied.json?.results?.[0] as { action?: string; error?: string } | undefined;
      return {
        ...result,
        env,
        applyStatus: applied.status,
        action: r0?.action,
        applyError: r0?.error ?? (applied.status !== 200 ? applied.text.slice(0, 500) : undefined),
        oldInstances: before.length,
        newInstances: [...newHosts].filter((h) => !oldHosts.has(h)).length,
        instancesAfter: after.length,
        allNewAfter: allNew,
      };
    } finally {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await Promise.race([once(child, 'exit'), sleep(5000)]);
      }
      this.load = undefined;
    }
  }

  // ------------------------------------------------------------ cleanup

  async cleanup(): Promise<string> {
    if (this.load && this.load.exitCode === null) this.load.kill('SIGTERM');
    await Promise.all(this.procs.map((p) => p.stop().catch(() => undefined)));
    const filters = { label: [this.runLabel] };
    const containers = await this.docker.listContainers({ all: true, filters }).catch(() => []);
    await Promise.all(containers.map((c) => this.docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
    const volumes = (await this.docker.listVolumes({ filters }).catch(() => ({ Volumes: [] }))).Volumes ?? [];
    await Promise.all(volumes.map((v) => this.docker.getVolume(v.Name).remove().catch(() => undefined)));
    const networks = await this.docker.listNetworks({ filters }).catch(() => []);
    await Promise.all(networks.map((n) => this.docker.getNetwork(n.Id).remove().catch(() => undefined)));
    if (this.ownDir && this.dir) await rm(this.dir, { recursive: true, force: true });
    return `${containers.length} containers, ${volumes.length} volumes, ${networks.length} networks`;
  }
}

// ---------------------------------------------------------------- analysis

function analyseUpdate(
  i: number,
  rec: LoadRecord,
  w: { applyStart: number; applyEnd: number; oldHosts: Set<string>; newHosts: Set<string> },
): Omit<UpdateResult, 'env' | 'applyStatus' | 'action' | 'applyError' | 'oldInstances' | 'newInstances' | 'instancesAfter' | 'allNewAfter'> {
  const n = rec.status.length;
  const idx = Array.from({ length: n }, (_, k) => k);
  const hostOf = (k: number) => (rec.host[k]! >= 0 ? rec.hosts[rec.host[k]!]! : undefined);
  const isOk = (k: number) => rec.status[k]! >= 200 && rec.status[k]! < 300;
  const non2xx: Record<string, number> = {};
  for (const k of idx) if (rec.status[k] !== 0 && !isOk(k)) non2xx[String(rec.status[k])] = (non2xx[String(rec.status[k])] ?? 0) + 1;
  const socket: Record<string, number> = {};
  for (const e of rec.errors) socket[e.error] = (socket[e.error] ?? 0) + 1;
  const failed = (k: number) => !isOk(k);
  const inApply = (k: number) => rec.doneAt[k]! >= w.applyStart && rec.sentAt[k]! <= w.applyEnd;
  // Windows: the last second before the apply (the clients are warm by then), the apply, the tail after it.
  const firstAt = n ? Math.min(...rec.sentAt) : w.applyStart;
  const lastAt = n ? Math.max(...rec.doneAt) : w.applyEnd;
  const beforeFrom = Math.max(firstAt, w.applyStart - 1000);
  const before = idx.filter((k) => rec.doneAt[k]! >= beforeFrom && rec.doneAt[k]! < w.applyStart);
  const during = idx.filter((k) => rec.doneAt[k]! >= w.applyStart && rec.doneAt[k]! <= w.applyEnd);
  const afterApply = idx.filter((k) => rec.doneAt[k]! > w.applyEnd);
  const rps = (ks: number[], from: number, to: number) => (to > from ? ks.length / ((to - from) / 1000) : NaN);
  const lat = (ks: number[]) => ks.map((k) => rec.doneAt[k]! - rec.sentAt[k]!);
  const gap = (ks: number[], from: number, to: number) => {
    const t = [from, ...ks.map((k) => rec.doneAt[k]!).sort((a, b) => a - b), to];
    let g = 0;
    for (let j = 1; j < t.length; j++) g = Math.max(g, t[j]! - t[j - 1]!);
    return g;
  };
  const served = (hosts: Set<string>) => idx.filter((k) => isOk(k) && hosts.has(hostOf(k) ?? ''));
  const newServed = served(w.newHosts).filter((k) => !w.oldHosts.has(hostOf(k)!));
  const oldServed = served(w.oldHosts);
  const firstNew = newServed.length ? Math.min(...newServed.map((k) => rec.doneAt[k]!)) - w.applyStart : NaN;
  const lastOld = oldServed.length ? Math.max(...oldServed.map((k) => rec.doneAt[k]!)) - w.applyStart : NaN;
  const lastOldSent = oldServed.length ? Math.max(...oldServed.map((k) => rec.sentAt[k]!)) - w.applyStart : NaN;
  return {
    update: i,
    applyMs: round(w.applyEnd - w.applyStart, 1),
    requests: n,
    ok: idx.filter(isOk).length,
    non2xx: Object.values(non2xx).reduce((a, b) => a + b, 0),
    non2xxByStatus: non2xx,
    socketErrors: rec.errors.length,
    socketErrorsByCode: socket,
    failedDuringApply: idx.filter((k) => failed(k) && inApply(k)).length,
    servedByUnknownInstance: idx.filter((k) => isOk(k) && !w.oldHosts.has(hostOf(k) ?? '') && !w.newHosts.has(hostOf(k) ?? '')).length,
    firstNewAnswerMs: round(firstNew, 1),
    lastOldAnswerMs: round(lastOld, 1),
    lastOldSentMs: round(lastOldSent, 1),
    switchGapMs: round(firstNew - lastOld, 1),
    requestsPerSecond: {
      before: round(rps(before, beforeFrom, w.applyStart), 0),
      duringApply: round(rps(during, w.applyStart, w.applyEnd), 0),
      after: round(rps(afterApply, w.applyEnd, lastAt), 0),
    },
    latencyMs: {
      beforeP50: round(percentile(lat(before), 50), 2),
      beforeP99: round(percentile(lat(before), 99), 2),
      duringP50: round(percentile(lat(during), 50), 2),
      duringP99: round(percentile(lat(during), 99), 2),
      duringMax: round(Math.max(...lat(during)), 2),
    },
    longestGapMs: { before: round(gap(before, beforeFrom, w.applyStart), 1), duringApply: round(gap(during, w.applyStart, Math.min(w.applyEnd, lastAt)), 1) },
  };
}

function summarise(ms: readonly Measurement[]): Summary {
  const pick = (f: (m: Measurement) => number) => round(median(ms.map(f)), 3);
  const rps = ms.map((m) => m.requestsPerSecond);
  // The bottleneck of the run closest to the median throughput.
  const mid = [...ms].sort((a, b) => Math.abs(a.requestsPerSecond - median(rps)) - Math.abs(b.requestsPerSecond - median(rps)))[0]!;
  return {
    requestsPerSecond: round(median(rps), 0),
    rpsRange: [round(Math.min(...rps), 0), round(Math.max(...rps), 0)],
    p50Ms: pick((m) => m.latencyMs.p50),
    p99Ms: pick((m) => m.latencyMs.p99),
    proxyCpuUsPerRequest: pick((m) => m.proxyCpuUsPerRequest),
    proxyCores: pick((m) => m.proxyCores),
    replicasCores: pick((m) => m.replicasCores),
    dockerProxyCores: pick((m) => m.dockerProxyCores),
    wrkCores: pick((m) => m.wrkCores),
    cpuBusy: mid.cpuBusy,
    otherCores: pick((m) => m.otherCores),
    errors: ms.reduce((a, m) => a + m.errors.connect + m.errors.read + m.errors.write + m.errors.status + m.errors.timeout, 0),
    bottleneck: mid.bottleneck,
  };
}

function groupNote(g: Omit<Group, 'note'>): string {
  const note = groupNoteOf(g);
  return g.disturbed ? `${note} [disturbed: other work used ${fmt(Math.max(g.berth.otherCores, g.nginx.otherCores), 2)} cores meanwhile]` : note;
}

function groupNoteOf(g: Omit<Group, 'note'>): string {
  const { berth, nginx, replicas, placement } = g;
  const r = g.ratio.throughput;
  const is = (s: Summary, what: string) => s.bottleneck.startsWith(what);
  if (placement === 'pinned') {
    if (is(berth, 'the load core') && is(nginx, 'the load core'))
      return `both limited by the load core (wrk + ${replicas} replica(s) + docker-proxy on one CPU): the throughput says little, CPU/request is the figure`;
    if (is(berth, 'the proxy') && is(nginx, 'the load core'))
      return `berth's core is the limit, nginx's is not (the replicas' core is): berth pays ${fmt(g.ratio.cpuPerRequest, 1)}× nginx's CPU per request`;
  } else {
    if (is(berth, 'the machine') && is(nginx, 'the machine'))
      return `both keep the machine's cores busy, so the CPU berth spends per request beyond nginx's is taken from the replicas and docker-proxy: ${r < 0.97 ? `${fmt((1 - r) * 100, 0)} % fewer requests` : 'no visible loss'}`;
    if (is(berth, 'the replica') && is(nginx, 'the replica')) return 'the single replica is the limit for both';
  }
  return `berth: ${berth.bottleneck}; nginx: ${nginx.bottleneck}`;
}

// ---------------------------------------------------------------- report

function printReport(result: ReturnType<typeof buildResult>): void {
  const out: string[] = [];
  const widths = [9, 6, 9, 8, 8, 9, 7, 9, 8];
  const line = (cells: string[]) => cells.map((c, i) => (i <= 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  out.push('');
  out.push(
    `berth vs nginx balancing the same replicas of ${IMAGE} (${result.setup.balance}), wrk -c${result.setup.connections} -t${result.setup.threads}, ` +
      `${result.setup.durationS} s × ${result.setup.rounds} round(s) per cell, ${result.machine.cpus} CPUs, engine ${result.machine.engine}`,
  );
  for (const placement of result.setup.placements) {
    out.push('');
    out.push(
      placement === 'shared'
        ? 'placement "shared": no pinning, everything (wrk, proxy, replicas, docker-proxy) shares the cores'
        : `placement "pinned": proxy alone on CPU ${result.setup.proxyCpu}; wrk, replicas and docker-proxy on CPU ${result.setup.loadCpu}`,
    );
    out.push(line(['replicas', 'proxy', 'req/s', 'p50 ms', 'p99 ms', 'µs CPU/r', 'cores', 'replicas', 'd-proxy']));
    for (const g of result.groups.filter((x) => x.placement === placement)) {
      for (const t of ['berth', 'nginx'] as const) {
        const s = g[t];
        out.push(
          line([
            t === 'berth' ? String(g.replicas) : '',
            t,
            fmt(s.requestsPerSecond, 0),
            fmt(s.p50Ms, 2),
            fmt(s.p99Ms, 2),
            fmt(s.proxyCpuUsPerRequest, 1),
            fmt(s.proxyCores, 2),
            fmt(s.replicasCores, 2),
            fmt(s.dockerProxyCores, 2),
          ]) + (s.errors ? `  ${s.errors} ERRORS` : ''),
        );
      }
      out.push(
        `${''.padEnd(widths[0]!)}  berth/nginx: throughput ${fmt(g.ratio.throughput, 2)}×, CPU/request ${fmt(g.ratio.cpuPerRequest, 2)}×, p50 ${fmt(g.ratio.p50, 2)}×, p99 ${fmt(g.ratio.p99, 2)}×`,
      );
      out.push(`${''.padEnd(widths[0]!)}  ${g.note}`);
    }
  }
  out.push('(req/s, p50, p99: from wrk; µs CPU/r: the proxy process\'s CPU time per request; cores: CPU time ÷ wall time of the proxy, the replicas\' containers and their docker-proxy processes)');
  out.push('');
  out.push(...result.scaling.map((s) => `scaling (${s.placement}): ${s.text}`));
  out.push('');
  const u = result.blueGreen;
  if (u.updates.length > 0) {
    out.push(`blue/green under load: ${u.updates.length} update(s) of ${u.replicas} replicas (env change) applied through POST /v1/apps while ${u.clients} keep-alive clients sent GET ${PREFIX}echo`);
    for (const x of u.updates) {
      out.push(
        `  update ${x.update}: ${x.action ?? `HTTP ${x.applyStatus}`}${x.applyError ? ` (${x.applyError})` : ''}, apply took ${fmt(x.applyMs, 0)} ms; ` +
          `${x.requests} requests, ${x.non2xx} non-2xx, ${x.socketErrors} socket errors` +
          (x.non2xx + x.socketErrors > 0 ? ` ${JSON.stringify({ ...x.non2xxByStatus, ...x.socketErrorsByCode })}` : '') +
          `; first answer from the new revision ${fmt(x.firstNewAnswerMs, 0)} ms after the apply was sent, last from the old ${fmt(x.lastOldAnswerMs, 0)} ms (${switchText(x.switchGapMs)}); ` +
          `${x.newInstances}/${x.instancesAfter} instances new after it${x.allNewAfter ? '' : ' (NOT all new)'}`,
      );
      out.push(
        `            req/s before ${fmt(x.requestsPerSecond.before, 0)}, during the apply ${fmt(x.requestsPerSecond.duringApply, 0)}, after ${fmt(x.requestsPerSecond.after, 0)}; ` +
          `latency p50/p99 before ${fmt(x.latencyMs.beforeP50, 2)}/${fmt(x.latencyMs.beforeP99, 2)} ms, during ${fmt(x.latencyMs.duringP50, 2)}/${fmt(x.latencyMs.duringP99, 2)} ms (max ${fmt(x.latencyMs.duringMax, 1)}); ` +
          `longest time without an answer: ${fmt(x.longestGapMs.duringApply, 1)} ms during the apply (${fmt(x.longestGapMs.before, 1)} before)`,
      );
    }
    out.push(
      `  failed requests during blue/green updates: ${u.failed} of ${u.requests} (target 0: ${u.failed === 0 ? 'met' : 'MISSED'}); ` +
        `switch: apply median ${fmt(u.applyMsMedian, 0)} ms (new instances started and ready, traffic switched, old drained and removed), ` +
        `traffic on the new revision ${fmt(u.firstNewMedian, 0)} ms after the apply (median)`,
    );
  }
  out.push('');
  out.push(
    `machine: other work used ${fmt(result.machine.otherWorkCores.median, 2)} cores (median over the runs, max ${fmt(result.machine.otherWorkCores.max, 2)}); ` +
      `waited ${fmt(result.machine.quietWaitS, 0)} s in all for it to settle; ${result.machine.redoneRuns} run(s) redone for disturbance`,
  );
  const disturbed = result.groups.filter((g) => g.disturbed).length;
  if (disturbed > 0) {
    out.push(
      `WARNING: in ${disturbed} of ${result.groups.length} cells other work used more than 0.3 cores during the runs (marked [disturbed]); ` +
        'CPU per request and throughput there are inflated by sharing the cores; rerun on a quieter machine for clean figures',
    );
  }
  process.stdout.write(out.join('\n') + '\n');
}

function switchText(gapMs: number): string {
  if (!Number.isFinite(gapMs)) return 'no switch seen';
  return gapMs > 0 ? `${fmt(gapMs, 1)} ms without any answer at the switch` : `both revisions answered for ${fmt(-gapMs, 1)} ms`;
}

function scalingText(groups: readonly Group[], placement: Placement): string {
  const gs = groups.filter((g) => g.placement === placement).sort((a, b) => a.replicas - b.replicas);
  if (gs.length < 2) return 'one replica count only';
  const first = gs[0]!;
  const last = gs[gs.length - 1]!;
  const parts = (t: Target) => gs.map((g) => `${g.replicas}: ${fmt(g[t].requestsPerSecond / first[t].requestsPerSecond, 2)}×`).join(', ');
  const head = `throughput relative to 1 replica — berth ${parts('berth')}; nginx ${parts('nginx')}.`;
  if (placement === 'pinned') {
    const why = (t: Target) =>
      last[t].bottleneck.startsWith('the proxy') ? `${t} is limited by its own core, so this is what balancing over more upstreams costs it` : `${t} by the load core, where ${last.replicas} replicas and ${last.replicas} docker-proxy processes now take turns`;
    return `${head} All replicas share one core here, so more replicas cannot add throughput; ${why('berth')}; ${why('nginx')}.`;
  }
  const upstream = (t: Target) => last[t].replicasCores + last[t].dockerProxyCores;
  const most = upstream('berth') > last.berth.proxyCores && upstream('nginx') > last.nginx.proxyCores;
  return (
    `${head} More replicas cannot add throughput on ${last.berth.cpuBusy.length} cores: with ${last.replicas} replicas, the replicas and their docker-proxy used ` +
    `${fmt(upstream('berth'), 2)} cores (behind berth, berth itself ${fmt(last.berth.proxyCores, 2)}) and ${fmt(upstream('nginx'), 2)} (behind nginx, nginx ${fmt(last.nginx.proxyCores, 2)})` +
    (most ? ': the replicas and docker-proxy, not the proxy, take most of the machine.' : '.')
  );
}

function buildResult(bench: Bench, measurements: Measurement[], groups: Group[], updates: UpdateResult[], engine: string, started: Date) {
  const final = measurements;
  return {
    benchmark: 'replicas',
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    runId: bench.options.runId,
    image: IMAGE,
    setup: {
      replicas: bench.options.replicas,
      placements: bench.options.placements,
      balance: bench.options.balance,
      durationS: bench.options.durationS,
      warmupS: bench.options.warmupS,
      connections: bench.options.connections,
      threads: bench.options.threads,
      rounds: bench.options.rounds,
      loadCpu: bench.loadCpu,
      proxyCpu: bench.proxyCpu,
      request: `GET ${PREFIX}ping (berth: route ${PREFIX} with stripPrefix; nginx: location ${PREFIX} proxy_pass http://replicas/) → the app's /ping, "pong"`,
      upstreams: 'the replicas\' ports published on 127.0.0.1 (docker-proxy), the same for berth and nginx',
      nginx: `worker_processes 1, upstream with ${bench.options.balance === 'least-connections' ? 'least_conn' : 'round-robin'} and keepalive 64, access_log off`,
      berth: 'the real gateway (SqliteStore, DockerRuntime, request history and metrics on) in its own process',
    },
    machine: {
      cpus: bench.cpuCount,
      node: process.version,
      engine,
      loadavgAtEnd: loadavg().map((x) => round(x)),
      quietWaitS: round(bench.quiet.waitedMs / 1000, 1),
      otherWorkCores: { median: round(median(final.map((m) => m.otherCores)), 2), max: round(Math.max(0, ...final.map((m) => m.otherCores)), 2) },
      redoneRuns: bench.redone.length,
    },
    groups,
    scaling: bench.options.placements.map((p) => ({ placement: p, text: scalingText(groups, p) })),
    blueGreen: {
      replicas: 2,
      clients: bench.options.updateClients,
      leadMs: bench.options.updateLeadMs,
      tailMs: bench.options.updateTailMs,
      requests: updates.reduce((a, u) => a + u.requests, 0),
      failed: updates.reduce((a, u) => a + u.non2xx + u.socketErrors, 0),
      targetFailed: 0,
      applyMsMedian: round(median(updates.map((u) => u.applyMs)), 0),
      firstNewMedian: round(median(updates.map((u) => u.firstNewAnswerMs)), 0),
      updates,
    },
    measurements: final,
    redone: bench.redone,
  };
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const options = parseOptions();
  const bench = new Bench(options);
  const started = new Date();
  let cleaning: Promise<string> | undefined;
  const cleanup = () => (cleaning ??= bench.cleanup());
  let signalled = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      signalled = true;
      log(`${signal}: cleaning up`);
      const force = setTimeout(() => process.exit(130), 30_000);
      force.unref();
      void cleanup()
        .then((removed) => log(`cleaned up: ${removed} removed`))
        .finally(() => process.exit(130));
    });
  }
  try {
    log(
      `run ${options.runId}: replicas ${options.replicas.join(', ')}; placements ${options.placements.join(', ')}; ${options.rounds} round(s) of ${options.durationS} s per proxy and cell; ` +
        `${options.updates} blue/green update(s) under load`,
    );
    await bench.setup();
    const engine = await bench.docker.version().then((v) => v.Version, () => '?');
    const measurements: Measurement[] = [];
    const groups: Group[] = [];
    for (const n of options.replicas) {
      log(`${n} replica(s): scaling through the API`);
      const replicas = await bench.scale(n);
      log(`  replicas on 127.0.0.1:${replicas.map((r) => r.port).join(', ')}; nginx upstream of the same ports`);
      await bench.startNginx(replicas);
      if (options.warmupS > 0) {
        await bench.place('shared', replicas);
        for (const t of ['berth', 'nginx'] as const) {
          log(`  warm-up ${t}: ${options.warmupS} s`);
          await bench.wrk(`http://127.0.0.1:${t === 'berth' ? bench.proxyPort : bench.nginxPort}${PREFIX}ping`, options.warmupS, 'shared');
        }
      }
      const mine: Measurement[] = [];
      let k = 0;
      for (let r = 1; r <= options.rounds; r++) {
        for (const placement of options.placements) {
          // Which proxy goes first alternates, so drifting load hits both alike.
          const order: Target[] = k++ % 2 === 0 ? ['berth', 'nginx'] : ['nginx', 'berth'];
          for (const t of order) {
            const m = await bench.measure(t, replicas, placement, r);
            mine.push(m);
          }
        }
      }
      measurements.push(...mine);
      for (const placement of options.placements) {
        const of = (t: Target) => mine.filter((m) => m.target === t && m.placement === placement);
        const berth = summarise(of('berth'));
        const nginx = summarise(of('nginx'));
        const g = {
          replicas: n,
          placement,
          berth,
          nginx,
          disturbed: Math.max(berth.otherCores, nginx.otherCores) > 0.3,
          ratio: {
            throughput: round(berth.requestsPerSecond / nginx.requestsPerSecond, 3),
            cpuPerRequest: round(berth.proxyCpuUsPerRequest / nginx.proxyCpuUsPerRequest, 3),
            p50: round(berth.p50Ms / nginx.p50Ms, 3),
            p99: round(berth.p99Ms / nginx.p99Ms, 3),
          },
        };
        groups.push({ ...g, note: groupNote(g) });
      }
      await bench.place('shared', replicas);
      await bench.stopNginx();
    }

    const updates: UpdateResult[] = [];
    if (options.updates > 0) {
      log('blue/green under load: 2 replicas');
      await bench.scale(2);
      for (let i = 1; i <= options.updates; i++) {
        const u = await bench.updateUnderLoad(i);
        log(
          `  update ${i}: ${u.action ?? u.applyStatus}${u.applyError ? ` (${u.applyError})` : ''} in ${fmt(u.applyMs, 0)} ms; ${u.requests} requests, ${u.non2xx} non-2xx, ${u.socketErrors} socket errors; ` +
            `new revision answering after ${fmt(u.firstNewAnswerMs, 0)} ms, old until ${fmt(u.lastOldAnswerMs, 0)} ms`,
        );
        updates.push(u);
        if (u.applyStatus !== 200 || u.instancesAfter !== 2) throw new Error(`update ${i} did not leave 2 instances (${u.applyStatus}, ${u.instancesAfter} running)`);
      }
    }

    const gatewayVmHwmKb = vmHwmKb(bench.gateway?.pid ?? 0);
    const result = { ...buildResult(bench, measurements, groups, updates, engine, started), gatewayVmHwmKb };
    await mkdir(dirname(options.json), { recursive: true });
    const stamped = join(dirname(options.json), `replicas-${started.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z')}.json`);
    await writeFile(stamped, JSON.stringify(result, null, 2) + '\n');
    await copyFile(stamped, options.json);
    printReport(result);
    log(`berth's gateway process: peak RSS ${fmt(gatewayVmHwmKb / 1024, 0)} MB (VmHWM)`);
    log(`wrote ${options.json} (and ${stamped})`);
  } finally {
    const removed = await cleanup();
    if (!signalled) log(`cleaned up: ${removed} removed`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    log(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
