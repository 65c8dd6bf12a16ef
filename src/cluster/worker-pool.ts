import cluster, { type Worker } from 'node:cluster';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { Activator } from '../activator/activator.js';
import type { RequestRecord } from '../store/store.js';
import { ControlFeed } from './control-feed.js';
import type { FromProxy, ProxySettings } from './state-feed.js';

export interface WorkerPoolOptions {
  count: number;
  activator: Activator;
  logger: Logger;
  /** What each worker runs with, asked at every fork (a replacement gets the settings of now). */
  settings: () => Omit<ProxySettings, 'host' | 'port'>;
  onRecords: (records: RequestRecord[]) => void;
  /** Where the per-worker request counter is registered (the gateway's /metrics). */
  registry?: Registry;
}

/** A worker that dies sooner than this after its fork is replaced only after a pause, so a crash loop does not spin. */
const MIN_LIFE_MS = 1_000;
const REFORK_PAUSE_MS = 1_000;

/**
 * The control process's proxy workers (`workers: N`), on node:cluster with
 * SCHED_NONE: the workers share the listening socket and the kernel spreads
 * the accepts, with no hop through this process. A worker that dies is
 * replaced; the others keep their connections, and what it had in flight is
 * dropped from the activity table. The state feed (control-feed.ts) carries
 * everything else.
 */
export class WorkerPool {
  readonly feed: ControlFeed;
  /** Live workers; `fed` once sent their hello, from when on they get every snapshot. */
  private readonly workers = new Map<number, { worker: Worker; forkedAt: number; fed: boolean }>();
  private closing = false;
  private host = '127.0.0.1';
  private port = 0;
  private readonly served?: Counter<'worker'>;
  private listening?: { resolve: (port: number) => void; reject: (err: Error) => void; left: number };

  constructor(private readonly options: WorkerPoolOptions) {
    this.feed = new ControlFeed({
      activator: options.activator,
      logger: options.logger,
      peers: {
        ids: () => [...this.workers.values()].filter((w) => w.fed).map((w) => w.worker.id),
        send: (id, message) => {
          const entry = this.workers.get(id);
          if (entry?.worker.isConnected()) entry.worker.send(message);
        },
      },
      onRecords: (records, peer) => {
        this.served?.inc({ worker: String(peer) }, records.length);
        options.onRecords(records);
      },
    });
    if (options.registry) {
      this.served = new Counter({ name: 'berth_worker_requests_total', help: 'Proxied requests by the proxy worker that served them (workers > 1).', labelNames: ['worker'], registers: [options.registry] });
    }
  }

  /** Forks the workers and resolves once every one listens; rejects with the first one's error. */
  async listen(host: string, port: number): Promise<AddressInfo> {
    this.host = host;
    this.port = port;
    // Set once, before the first fork: each worker accepts for itself.
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    cluster.setupPrimary({ exec: fileURLToPath(new URL('./worker-main.js', import.meta.url)), args: [] });
    const bound = new Promise<number>((resolve, reject) => (this.listening = { resolve, reject, left: this.options.count }));
    for (let i = 0; i < this.options.count; i++) this.fork();
    const actual = await bound;
    return { address: host, family: host.includes(':') ? 'IPv6' : 'IPv4', port: actual };
  }

  /** Pids of the live workers, for operators and tests. */
  get pids(): number[] {
    return [...this.workers.values()].map((w) => w.worker.process.pid!).filter((pid) => pid !== undefined);
  }

  private fork(): void {
    const worker = cluster.fork();
    this.workers.set(worker.id, { worker, forkedAt: performance.now(), fed: false });
    worker.on('message', (message: FromProxy) => this.onMessage(worker, message));
    worker.on('exit', (code, signal) => this.onExit(worker, code, signal));
  }

  private onMessage(worker: Worker, message: FromProxy): void {
    if (message.t === 'ready') {
      const entry = this.workers.get(worker.id);
      if (!entry) return;
      // Replacements listen on the configured port too: the same key shares the handle the live workers hold.
      worker.send(this.feed.hello(worker.id, { ...this.options.settings(), host: this.host, port: this.port }));
      entry.fed = true;
      return;
    }
    if (message.t === 'listening') {
      this.options.logger.debug({ worker: worker.id, pid: worker.process.pid, port: message.port }, 'proxy worker listening');
      const waiting = this.listening;
      if (waiting && --waiting.left === 0) {
        this.listening = undefined;
        waiting.resolve(message.port);
      }
      return;
    }
    if (message.t === 'listenFailed') {
      this.listening?.reject(new Error(`the proxy could not listen on ${this.host}:${this.port}: ${message.error}`));
      this.listening = undefined;
      return;
    }
    if (message.t === 'closed') return;
    this.feed.handle(worker.id, message);
  }

  private onExit(worker: Worker, code: number | null, signal: string | null): void {
    const entry = this.workers.get(worker.id);
    this.workers.delete(worker.id);
    this.feed.peerLeft(worker.id);
    if (this.closing) return;
    if (this.listening) {
      this.listening.reject(new Error(`a proxy worker exited at start (code ${code}, signal ${signal})`));
      this.listening = undefined;
      return;
    }
    const lived = entry ? performance.now() - entry.forkedAt : 0;
    this.options.logger.warn({ worker: worker.id, pid: worker.process.pid, code, signal }, 'proxy worker died; starting a replacement');
    const refork = () => {
      if (!this.closing) this.fork();
    };
    if (lived < MIN_LIFE_MS) setTimeout(refork, REFORK_PAUSE_MS).unref();
    else refork();
  }

  /** Lets every worker drain (up to `graceMs`), then makes sure they are gone. */
  async close(graceMs = 30_000): Promise<void> {
    this.closing = true;
    const exits = [...this.workers.values()].map(({ worker }) => {
      if (worker.isDead()) return Promise.resolve();
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      if (worker.isConnected()) worker.send({ t: 'close', graceMs });
      const kill = setTimeout(() => worker.process.kill('SIGKILL'), graceMs + 3_000);
      return exited.finally(() => clearTimeout(kill));
    });
    await Promise.all(exits);
  }
}
