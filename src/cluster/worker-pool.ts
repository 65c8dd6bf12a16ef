import cluster, { type Worker } from 'node:cluster';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.js';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { Activator } from '../activator/activator.js';
import type { RequestRecord } from '../store/store.js';
import { ControlFeed } from './control-feed.js';
import type { EdgeSnapshot, FromProxy, ProxySettings, ToProxy } from './state-feed.js';
import { doublingDelayMs } from '../backoff.js';

export interface WorkerPoolOptions {
  count: number;
  activator: Activator;
  logger: Logger;
  /**
   * What each worker runs with. Asked at the first fork; after that only what a reload changes
   * (waitingPageHtml, logLevel) is taken anew: the rest takes a restart, as with one process, so a
   * replacement runs with the same limits and trusted proxies as the workers beside it.
   */
  settings: () => Omit<ProxySettings, 'host' | 'port' | 'tls'>;
  onRecords: (records: RequestRecord[]) => void;
  /** Where the per-worker request counter is registered (the gateway's /metrics). */
  registry?: Registry;
  /** How often workers are pinged, and after how long without a word from one it is taken for hung (tests shorten them). */
  watchdog?: { pingEveryMs: number; hungAfterMs: number };
  /** Several gateways: apps another gateway's fence holds now (see ControlFeedOptions.held). */
  held?: (app: string) => boolean;
}

/**
 * A worker that dies sooner than STABLE_LIFE_MS after its fork died quickly: its slot is forked
 * again after a pause that doubles with each quick death in a row (1 s, 2 s, 4 s, then
 * MAX_REFORK_PAUSE_MS), so a crash loop (a port taken) does not fork and log once a second for
 * good. The cap is short: while every worker pauses nothing serves, and a poison request that
 * kills workers must not buy a long outage. A worker that lived longer is replaced at once.
 */
const STABLE_LIFE_MS = 10_000;
const FIRST_REFORK_PAUSE_MS = 1_000;
const MAX_REFORK_PAUSE_MS = 5_000;

/** The pause before a slot is forked again, and its count of quick deaths in a row. Pure. */
export function reforkPlan(livedMs: number, quickDeaths: number): { pauseMs: number; quickDeaths: number } {
  if (livedMs >= STABLE_LIFE_MS) return { pauseMs: 0, quickDeaths: 0 };
  const deaths = quickDeaths + 1;
  return { pauseMs: doublingDelayMs(deaths - 1, FIRST_REFORK_PAUSE_MS, MAX_REFORK_PAUSE_MS), quickDeaths: deaths };
}
/**
 * A worker that says nothing for HUNG_AFTER_MS (it answers a ping every PING_EVERY_MS) is
 * hung (an endless loop, SIGSTOP): it is killed and replaced. Left alone, it would hold its
 * connections unanswered, pin the apps it had requests on up for good, make every barrier
 * wait out its timeout, and the control would queue every snapshot for it in memory.
 */
const PING_EVERY_MS = 2_000;
const HUNG_AFTER_MS = 15_000;
/**
 * A worker not yet listening is starting: its silence is Node loading the gateway's modules,
 * then building its proxy from the hello, which on a loaded machine takes seconds. It is
 * taken for hung only after this long (or hungAfterMs, if longer): at the ping bound, a slow
 * start was killed and failed the gateway's `listen`.
 */
const START_SILENCE_MS = 60_000;
/** How long an edge snapshot waits for the workers to say they serve it (a worker that hangs must not hold an ACME order forever). */
const EDGE_ACK_MS = 5_000;

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
  /**
   * Live workers; `fed` once sent their hello, from when on they get every snapshot. `slot`
   * (0 to count - 1) is the place a worker holds: its replacement takes it over.
   */
  private readonly workers = new Map<number, { worker: Worker; forkedAt: number; fed: boolean; slot: number; heardMs: number; killed?: boolean; listening?: boolean }>();
  private watchdog?: NodeJS.Timeout;
  /** Each worker's slot, kept past its exit (its last records may be read after it). */
  private readonly slots = new WeakMap<Worker, number>();
  /** The settings of the first hello: what only a restart changes stays as it was then (see `settings`). */
  private startSettings?: WorkerSettings;
  /** Per slot, its workers' quick deaths in a row (reforkPlan). */
  private readonly quickDeaths = new Map<number, number>();
  private checkedMs = 0;
  private closing = false;
  private host = '127.0.0.1';
  private port = 0;
  private readonly served?: Counter<'worker'>;
  private listening?: { resolve: (ports: { port: number; tlsPort?: number }) => void; reject: (err: Error) => void; left: number };
  private tls?: { host: string; port: number };
  /** The ports the workers got at the start (a configured port 0 is the kernel's pick). */
  private bound?: { port: number; tlsPort?: number };
  /**
   * Every worker that held the listening sockets died at once: the control's cluster closed them,
   * and port 0 would now be a new port. From then on replacements bind the ports the gateway
   * printed (see replacementPorts).
   */
  private socketsClosed = false;
  /** The latest edge snapshot: sent to every worker as it changes, and in each hello. */
  private edge?: EdgeSnapshot;
  private edgeId = 0;
  /** Edge snapshots not yet applied by every worker they were sent to: the workers still to answer. */
  private readonly edgeAcks = new Map<number, { left: Set<number>; done: () => void }>();
  /** The TLS listener the workers share (a `tls` block), once they all listen. */
  tlsAddress?: AddressInfo;

  /** The pings' period and the silence after which either side takes the other for hung. */
  private get watchdogTimes(): { pingEveryMs: number; hungAfterMs: number } {
    return this.options.watchdog ?? { pingEveryMs: PING_EVERY_MS, hungAfterMs: HUNG_AFTER_MS };
  }

  constructor(private readonly options: WorkerPoolOptions) {
    this.feed = new ControlFeed({
      activator: options.activator,
      logger: options.logger,
      peers: {
        ids: () => [...this.workers.values()].filter((w) => w.fed).map((w) => w.worker.id),
        send: (id, message) => {
          const entry = this.workers.get(id);
          if (entry) post(entry.worker, message);
        },
      },
      onRecords: (records) => options.onRecords(records),
      ...(options.held ? { held: options.held } : {}),
    });
    if (options.registry) {
      this.served = new Counter({ name: 'berth_worker_requests_total', help: 'Proxied requests by the proxy worker that served them (workers > 1), by slot 0..workers-1 (a replacement counts on in the slot it took over).', labelNames: ['worker'], registers: [options.registry] });
    }
  }

  /**
   * Forks the workers and resolves once every one listens (on `tls` as well, when given; then
   * `tlsAddress` is set); rejects with the first one's error.
   */
  async listen(host: string, port: number, tls?: { host: string; port: number }): Promise<AddressInfo> {
    this.host = host;
    this.port = port;
    // Port 0 goes to the workers as it is: the control's cluster binds each listener once and shares it
    // (keyed by address, port and the order of the worker's listens, so HTTP and TLS on one host's port 0
    // get two sockets). A port picked here and bound later could be taken in between.
    if (tls) this.tls = tls;
    // Set once, before the first fork: each worker accepts for itself.
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    cluster.setupPrimary({ exec: fileURLToPath(new URL('./worker-entry.js', import.meta.url)), args: [] });
    const bound = new Promise<{ port: number; tlsPort?: number }>((resolve, reject) => (this.listening = { resolve, reject, left: this.options.count }));
    for (let slot = 0; slot < this.options.count; slot++) this.fork(slot);
    const { pingEveryMs, hungAfterMs } = this.watchdogTimes;
    this.checkedMs = performance.now();
    this.watchdog = setInterval(() => this.checkAlive(pingEveryMs, hungAfterMs), pingEveryMs);
    this.watchdog.unref();
    const actual = await bound;
    this.bound = actual;
    if (this.tls && actual.tlsPort !== undefined) this.tlsAddress = addressOf(this.tls.host, actual.tlsPort);
    return addressOf(host, actual.port);
  }

  /**
   * Sends every worker what it serves of HTTPS; resolves once each one serves it (or after
   * EDGE_ACK_MS), so an HTTP-01 challenge is answered by whichever worker the CA reaches.
   */
  publishEdge(edge: EdgeSnapshot): Promise<void> {
    this.edge = edge;
    const id = ++this.edgeId;
    const to = [...this.workers.values()].filter((w) => w.fed && w.worker.isConnected());
    if (to.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => done(), EDGE_ACK_MS);
      timer.unref();
      const done = () => {
        clearTimeout(timer);
        this.edgeAcks.delete(id);
        resolve();
      };
      this.edgeAcks.set(id, { left: new Set(to.map((w) => w.worker.id)), done });
      for (const { worker } of to) post(worker, { t: 'edge', id, edge });
    });
  }

  private edgeAnswered(worker: number, id?: number): void {
    for (const [ackId, ack] of this.edgeAcks) {
      if (id !== undefined && ackId !== id) continue;
      ack.left.delete(worker);
      if (ack.left.size === 0) ack.done();
    }
  }

  /**
   * The gateway's configuration was reloaded: the live workers take what a reload changes
   * in one process too (the waiting page's html, the log level); a replacement gets them in
   * its hello. Without this, only workers forked after the reload served the new page.
   */
  settingsChanged(): void {
    const { waitingPageHtml, logLevel } = this.options.settings();
    for (const { worker, fed } of this.workers.values()) if (fed) post(worker, { t: 'settings', logLevel, ...(waitingPageHtml !== undefined ? { waitingPageHtml } : {}) });
  }

  /** Pids of the live workers, for operators and tests. */
  get pids(): number[] {
    return [...this.workers.values()].map((w) => w.worker.process.pid!).filter((pid) => pid !== undefined);
  }

  private fork(slot: number): void {
    const worker = cluster.fork();
    const now = performance.now();
    this.workers.set(worker.id, { worker, forkedAt: now, fed: false, slot, heardMs: now });
    this.slots.set(worker, slot);
    worker.on('message', (message: FromProxy) => this.onMessage(worker, message));
    worker.on('error', (err) => {
      // A fork that failed (EMFILE, ENFILE, EAGAIN: out of descriptors or processes) has no pid and
      // never emits 'exit': it is taken as a worker that died at once, or its slot stayed empty for good.
      if (worker.process.pid === undefined) return this.onExit(worker, null, null, err);
      // A failed write (EPIPE: it died while the control wrote) is answered by its 'exit', which replaces it.
      this.options.logger.debug({ worker: worker.id, err: err.message }, 'proxy worker channel error');
    });
    worker.on('exit', (code, signal) => this.onExit(worker, code, signal));
  }

  /** Kills the workers that said nothing for `hungAfterMs` (their 'exit' replaces them); pings the others. */
  private checkAlive(pingEveryMs: number, hungAfterMs: number): void {
    const now = performance.now();
    // This process stalled itself (its timer fired late): the workers' answers wait unread behind this
    // timer, so their silence says nothing; the clocks start again.
    const stalled = now - this.checkedMs > 2 * pingEveryMs;
    this.checkedMs = now;
    for (const entry of this.workers.values()) {
      if (stalled) entry.heardMs = now;
      if (entry.killed) continue;
      if (now - entry.heardMs > (entry.listening ? hungAfterMs : Math.max(hungAfterMs, START_SILENCE_MS))) {
        entry.killed = true;
        this.options.logger.warn({ worker: entry.worker.id, slot: entry.slot, pid: entry.worker.process.pid, silentMs: Math.round(now - entry.heardMs) }, 'proxy worker does not answer; killing it to start a replacement');
        entry.worker.process.kill('SIGKILL');
      } else if (entry.fed) post(entry.worker, { t: 'ping' });
    }
  }

  private onMessage(worker: Worker, message: FromProxy): void {
    const entry = this.workers.get(worker.id);
    if (entry) entry.heardMs = performance.now();
    if (message.t === 'ready') {
      if (!entry) return;
      // Replacements listen on the configured port too (the same key shares the sockets the live workers hold), unless none is left.
      const now = this.options.settings();
      const settings = helloSettings((this.startSettings ??= now), now);
      const ports = replacementPorts({ port: this.port, ...(this.tls ? { tlsPort: this.tls.port } : {}) }, this.bound, this.socketsClosed);
      const tls = this.tls && ports.tlsPort !== undefined ? { host: this.tls.host, port: ports.tlsPort } : undefined;
      const hello = { ...this.feed.hello(worker.id, { ...settings, host: this.host, port: ports.port, ...(tls ? { tls } : {}) }), controlSilentMs: this.watchdogTimes.hungAfterMs };
      post(worker, this.edge ? { ...hello, edge: this.edge } : hello);
      entry.fed = true;
      return;
    }
    if (message.t === 'listening') {
      if (entry) entry.listening = true;
      this.options.logger.debug({ worker: worker.id, pid: worker.process.pid, port: message.port }, 'proxy worker listening');
      const waiting = this.listening;
      if (waiting && --waiting.left === 0) {
        this.listening = undefined;
        waiting.resolve({ port: message.port, ...(message.tlsPort !== undefined ? { tlsPort: message.tlsPort } : {}) });
      }
      return;
    }
    if (message.t === 'listenFailed') {
      // At start the gateway fails with it; a replacement's reason would be lost behind its exit code.
      // Told as a single process tells it (`listen: cannot listen on …`), and with the same exit code.
      if (this.listening) this.listening.reject(message.configKey ? new ConfigError(message.error) : new Error(`the proxy could not listen on ${message.error}`));
      else this.options.logger.warn({ worker: worker.id, slot: entry?.slot, err: message.error }, 'a replacement proxy worker could not listen');
      this.listening = undefined;
      return;
    }
    if (message.t === 'edgeApplied') return this.edgeAnswered(worker.id, message.id);
    if (message.t === 'closed' || message.t === 'pong') return;
    // A worker's 'exit' may come before the last messages in its channel: its share of the activity
    // was given back at the exit, and a late report would take it again for good. Records still count.
    if (message.t === 'records') {
      // By slot, not by cluster id: every replacement gets a new id, and a series per id would grow with each restart.
      // The slot is the Worker's own, so records read after its exit count too.
      this.served?.inc({ worker: String(this.slots.get(worker)) }, message.records.length);
    } else if (!entry) return;
    this.feed.handle(worker.id, message);
  }

  /** A worker exited, or (`forkError`) could not be forked at all. */
  private onExit(worker: Worker, code: number | null, signal: string | null, forkError?: Error): void {
    const entry = this.workers.get(worker.id);
    this.workers.delete(worker.id);
    this.feed.peerLeft(worker.id);
    this.edgeAnswered(worker.id);
    if (this.closing) return;
    if (this.listening) {
      this.listening.reject(new Error(forkError ? `a proxy worker could not be started: ${forkError.message}` : `a proxy worker exited at start (code ${code}, signal ${signal})`));
      this.listening = undefined;
      return;
    }
    if (!entry) return;
    if (![...this.workers.values()].some((w) => w.listening)) this.socketsClosed = true;
    const plan = reforkPlan(performance.now() - entry.forkedAt, this.quickDeaths.get(entry.slot) ?? 0);
    this.quickDeaths.set(entry.slot, plan.quickDeaths);
    if (forkError) this.options.logger.warn({ slot: entry.slot, err: forkError.message, pauseMs: plan.pauseMs }, 'a proxy worker could not be started; trying again');
    else this.options.logger.warn({ worker: worker.id, slot: entry.slot, pid: worker.process.pid, code, signal, pauseMs: plan.pauseMs }, 'proxy worker died; starting a replacement');
    const refork = () => {
      if (!this.closing) this.fork(entry.slot);
    };
    if (plan.pauseMs > 0) setTimeout(refork, plan.pauseMs).unref();
    else refork();
  }

  /** Lets every worker drain (up to `graceMs`), then makes sure they are gone. */
  async close(graceMs = 30_000): Promise<void> {
    this.closing = true;
    clearInterval(this.watchdog);
    const exits = [...this.workers.values()].map(({ worker }) => {
      if (worker.isDead()) return Promise.resolve();
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      post(worker, { t: 'close', graceMs });
      const kill = setTimeout(() => worker.process.kill('SIGKILL'), graceMs + 3_000);
      return exited.finally(() => clearTimeout(kill));
    });
    await Promise.all(exits);
  }
}

type WorkerSettings = Omit<ProxySettings, 'host' | 'port' | 'tls'>;

/**
 * The ports a worker is told to listen on. While one live worker holds the sockets, the configured
 * ones (port 0 included): the same address, port and order share its sockets. Once all died together
 * (`socketsClosed`), port 0 would be a new port: the ones bound at the start instead. Pure.
 */
export function replacementPorts(configured: { port: number; tlsPort?: number }, bound: { port: number; tlsPort?: number } | undefined, socketsClosed: boolean): { port: number; tlsPort?: number } {
  if (!socketsClosed || !bound) return configured;
  const port = configured.port === 0 ? bound.port : configured.port;
  if (configured.tlsPort === undefined) return { port };
  return { port, tlsPort: configured.tlsPort === 0 && bound.tlsPort !== undefined ? bound.tlsPort : configured.tlsPort };
}

/** A worker's settings: those only a restart changes as at the start, those a reload changes as now. Pure. */
export function helloSettings(start: WorkerSettings, now: WorkerSettings): WorkerSettings {
  const settings: WorkerSettings = { ...start, logLevel: now.logLevel };
  delete settings.waitingPageHtml;
  if (now.waitingPageHtml !== undefined) settings.waitingPageHtml = now.waitingPageHtml;
  return settings;
}

/**
 * Sends to a worker that may be dying: a worker killed while the control writes
 * to it fails the write with EPIPE, which without a callback is an 'error' event
 * that, unhandled, would end the control and with it every worker.
 */
function post(worker: Worker, message: ToProxy): void {
  if (worker.isConnected()) worker.send(message, undefined, ignoreSendError);
}

function ignoreSendError(): void {
  // The worker's 'exit' handler drops and replaces it.
}

function addressOf(host: string, port: number): AddressInfo {
  return { address: host, family: host.includes(':') ? 'IPv6' : 'IPv4', port };
}
