/** The replicas benchmark's setting: berth's gateway as a process, its app and replicas, nginx over them, CPU placement, cleanup. */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { appendFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type Docker from 'dockerode';
import { createDockerClient, resolveDockerEndpoint } from '../src/runtime/docker/client.js';
import { APP_PORT, IMAGE, removeRunObjects, requireImage, runLabels } from './lib/docker.js';
import { fetchGet } from './lib/http.js';
import { freePort } from './lib/ports.js';
import { Proc } from './lib/proc.js';
import { CLK_TCK, cgroupCpuReader, childrenOf, dockerProxyPids } from './lib/procfs.js';
import { QuietWaiter } from './lib/quiet.js';
import { logger } from './lib/run.js';
import { nginxConf } from './replicas-nginx.js';
import { HERE, PREFIX, ROOT, STEP_LIMIT_MS, type Options, type Placement } from './replicas-options.js';
import type { Measurement, Replica } from './replicas-types.js';

const execFileP = promisify(execFile);
const log = logger('replicas');

export class Bench {
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
    ({ labels: this.labels, runLabel: this.runLabel } = runLabels(options.runId));
    this.app = `bench-${options.runId}`;
    // Looks at the machine for 1 s at a time, and says when it is quiet again.
    this.quiet = new QuietWaiter({ maxCores: options.quietCores, budgetMs: options.quietBudgetMs, log, firstSampleMs: 1000, sampleMs: 1000, ticksPerS: CLK_TCK, sayWhenDone: true });
  }

  get allCpus(): string {
    return `0-${this.cpuCount - 1}`;
  }

  // ------------------------------------------------------------ processes

  async startProc(name: string, cmd: string, args: string[], opts: { stdout?: boolean } = {}): Promise<Proc> {
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
      const ok = await fetchGet(port, '/', 1000).then(
        () => true,
        () => false,
      );
      if (ok) return;
      await sleep(50);
    }
    throw new Error(`${proc.name} is not listening on 127.0.0.1:${port} after 15 s`);
  }

  /** taskset every thread of these processes to `cpus`. */
  async pin(pids: readonly number[], cpuList: string): Promise<void> {
    await Promise.all(pids.map((pid) => execFileP('taskset', ['-a', '-p', '-c', cpuList, String(pid)]).catch(() => undefined)));
  }

  // ------------------------------------------------------------ setup

  async setup(): Promise<void> {
    await requireImage(this.docker);
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
          const r = await fetchGet(this.proxyPort, `${PREFIX}ping`);
          if (r.status !== 200 || r.body !== 'pong') throw new Error(`berth ${PREFIX}ping answered ${r.status} ${r.body.slice(0, 200)}`);
        }
        return this.replicaList();
      }
      if (ready === undefined || ready === 0) await fetchGet(this.proxyPort, `${PREFIX}ping`, 30_000).catch(() => undefined); // wakes a stopped app
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
    const conf = nginxConf(dir, this.nginxPort, this.options.balance, replicas.map((r) => r.port));
    await writeFile(join(dir, 'nginx.conf'), conf);
    this.nginx = await this.startProc(`nginx-${replicas.length}`, 'nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir, '-e', join(dir, 'error.log')]);
    await this.waitListening(this.nginx, this.nginxPort);
    const r = await fetchGet(this.nginxPort, `${PREFIX}ping`);
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

  // ------------------------------------------------------------ cleanup

  async cleanup(): Promise<string> {
    if (this.load && this.load.exitCode === null) this.load.kill('SIGTERM');
    await Promise.all(this.procs.map((p) => p.stop().catch(() => undefined)));
    const removed = await removeRunObjects(this.docker, this.runLabel);
    if (this.ownDir && this.dir) await rm(this.dir, { recursive: true, force: true });
    return removed;
  }
}
