import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AppState, AppStatus } from '../activator/app-status.js';
import type { GatewayEvent } from '../gateway/state-events.js';
import type { RequestRecord } from '../store/store.js';
import { VERSION } from '../version.js';
import { ContainerClock } from './container-clock.js';
import { LabelledHistogram } from './labelled-histogram.js';
import { CODE_CLASSES, RequestTally } from './request-tally.js';
import { classifyTransition } from './transitions.js';

/** Proxied request latencies: a cache hit on loopback to a slow upload. */
export const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Cold starts: an already-created container on a fast engine to a slow image. */
export const COLD_START_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 30, 60, 120];

const APP_STATES: readonly AppState[] = ['stopped', 'starting', 'running', 'stopping', 'paused', 'failed', 'crashloop'];

export interface MetricsOptions {
  /** The apps' statuses now, read on every scrape for the gauges. */
  statuses?: () => readonly AppStatus[];
  /** The HTTPS certificates now (names, expiry, failed ACME orders), read on every scrape. */
  certificates?: () => ReadonlyArray<{ host?: string; names?: string[]; source: string; notAfter?: string; failures?: number }>;
  /** Request records the history dropped so far (store falling behind or failing), read on every scrape. */
  historyDropped?: () => number;
  /**
   * Whether the engine answers now, asked on every scrape (as /v1/health asks it): an
   * outage shows as berth_engine_up 0 while it lasts, not only in the apps it failed.
   * Absent: the gauge is not there.
   */
  engineUp?: () => Promise<boolean>;
  /** Process metrics (CPU, memory, event loop, GC) with the `berth_` prefix; default true. */
  processMetrics?: boolean;
  /** Monotonic milliseconds, for the container-seconds clock (tests inject one). */
  nowMs?: () => number;
  /**
   * Whether an app is declared now. A request or state change of an app that is not
   * (one in flight when the app was deleted, reported after its `deleted` event)
   * makes no series: it would stay for as long as berth runs. Asked only when the
   * app has no series yet, so not per request. Default: every app is.
   */
  declared?: (app: string) => boolean;
}

/**
 * berth's Prometheus metrics, in a registry of their own. Fed by the proxy's
 * finished requests (`requestDone`, on the hot path: a map lookup and a few
 * increments) and by app state changes (`stateChanged`); gauges are read from
 * the apps' statuses when scraped.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly tallies = new Map<string, RequestTally>();
  private readonly requestDuration = new LabelledHistogram('berth_request_duration_seconds', 'Time from receiving a proxied request to its end, cold-start wait included.', 'app', REQUEST_BUCKETS);
  private readonly coldStarts: Counter<'app' | 'result'>;
  private readonly coldStartDuration: Histogram<'app'>;
  private readonly idleStops: Counter<'app'>;
  private readonly startFailures: Counter<'app'>;
  /** Each app's state as last seen, to tell transitions. */
  private readonly states = new Map<string, AppState>();
  private readonly clock: ContainerClock;
  private readonly declared: (app: string) => boolean;
  /** The exposition being rendered now, shared by the scrapes that arrive meanwhile (see text()). */
  private rendering?: Promise<string>;

  constructor(options: MetricsOptions = {}) {
    this.declared = options.declared ?? (() => true);
    const registers = [this.registry];
    const statuses = options.statuses ?? (() => []);
    const tallies = this.tallies;
    this.clock = new ContainerClock(options.nowMs);
    const clock = this.clock;
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'berth_' });
    new Gauge({ name: 'berth_build_info', help: 'The running berth version (always 1).', labelNames: ['version', 'node'], registers }).set({ version: VERSION, node: process.version }, 1);
    new Counter({
      name: 'berth_requests_total',
      help: 'Proxied requests by app, status class (aborted: the client went away first) and whether they waited for a cold start.',
      labelNames: ['app', 'code_class', 'cold_start'],
      registers,
      collect() {
        this.reset();
        for (const [app, tally] of tallies) {
          for (let i = 0; i < tally.counts.length; i++) {
            const n = tally.counts[i]!;
            if (n > 0) this.inc({ app, code_class: CODE_CLASSES[i >> 1]!, cold_start: i & 1 ? 'true' : 'false' }, n);
          }
        }
      },
    });
    const historyDropped = options.historyDropped ?? (() => 0);
    new Counter({
      name: 'berth_history_dropped_total',
      help: 'Request records the history dropped: the store fell behind or failed (the requests themselves were served).',
      registers,
      collect() {
        this.reset();
        this.inc(historyDropped());
      },
    });
    const engineUp = options.engineUp;
    if (engineUp) {
      new Gauge({
        name: 'berth_engine_up',
        help: 'Whether the container engine answered a ping at this scrape (1) or not (0).',
        registers,
        async collect() {
          this.set((await engineUp().catch(() => false)) ? 1 : 0);
        },
      });
    }
    this.registry.registerMetric(this.requestDuration.asMetric());
    this.coldStarts = new Counter({ name: 'berth_cold_starts_total', help: 'Starts of an app from zero, by result.', labelNames: ['app', 'result'], registers });
    this.coldStartDuration = new Histogram({ name: 'berth_cold_start_duration_seconds', help: 'Time from the start of an app until its first instance was ready.', labelNames: ['app'], buckets: COLD_START_BUCKETS, registers });
    this.idleStops = new Counter({ name: 'berth_idle_stops_total', help: 'Apps stopped or paused because they were idle.', labelNames: ['app'], registers });
    this.startFailures = new Counter({ name: 'berth_start_failures_total', help: 'Apps that failed to start or crash-looped.', labelNames: ['app'], registers });
    new Counter({
      name: 'berth_container_seconds_total',
      help: "Seconds of the apps' containers up (starting, running or draining) and paused, summed over instances.",
      labelNames: ['app', 'state'],
      registers,
      collect() {
        for (const s of statuses()) clock.update(s);
        clock.advance();
        this.reset();
        for (const { app, running, paused } of clock.totals()) {
          this.inc({ app, state: 'running' }, running);
          this.inc({ app, state: 'paused' }, paused);
        }
      },
    });
    const certificates = options.certificates ?? (() => []);
    new Gauge({
      name: 'berth_certificate_expiry_timestamp_seconds',
      help: 'When each HTTPS certificate expires (Unix time), by name and source (file or acme): alert well before it.',
      labelNames: ['name', 'source'],
      registers,
      collect() {
        this.reset();
        // Several certificates may name a host (a renewed file beside the old one): the TLS edge serves
        // the first, by name in any case (sni-index.ts), so that one's expiry is the one to alert on; a
        // later one overwriting it would hide the served certificate running out.
        const shown = new Set<string>();
        for (const c of certificates()) {
          if (c.notAfter === undefined) continue;
          for (const raw of c.host !== undefined ? [c.host] : (c.names ?? [])) {
            const name = raw.toLowerCase();
            const key = `${c.source} ${name}`;
            if (shown.has(key)) continue;
            shown.add(key);
            this.set({ name, source: c.source }, Date.parse(c.notAfter) / 1000);
          }
        }
      },
    });
    new Gauge({
      name: 'berth_certificate_order_failures',
      help: 'Failed ACME orders in a row, by host (0 once one succeeds).',
      labelNames: ['name'],
      registers,
      collect() {
        this.reset();
        for (const c of certificates()) if (c.host !== undefined) this.set({ name: c.host }, c.failures ?? 0);
      },
    });
    new Gauge({
      name: 'berth_queue_waiting',
      help: 'Requests waiting for an app to start.',
      labelNames: ['app'],
      registers,
      collect() {
        this.reset();
        for (const s of statuses()) this.set({ app: s.name }, s.waiting);
      },
    });
    new Gauge({
      name: 'berth_requests_in_flight',
      help: 'Requests and WebSockets in flight, by app.',
      labelNames: ['app'],
      registers,
      collect() {
        this.reset();
        for (const s of statuses()) this.set({ app: s.name }, s.inFlight);
      },
    });
    new Gauge({
      name: 'berth_app_state',
      help: "1 for the app's current state, 0 for the others.",
      labelNames: ['app', 'state'],
      registers,
      collect() {
        this.reset();
        for (const s of statuses()) for (const state of APP_STATES) this.set({ app: s.name, state }, s.state === state ? 1 : 0);
      },
    });
    new Gauge({
      name: 'berth_instances',
      help: 'Instances by app: ready (in rotation now) and desired (the replicas it runs while up).',
      labelNames: ['app', 'state'],
      registers,
      collect() {
        this.reset();
        for (const s of statuses()) {
          this.set({ app: s.name, state: 'ready' }, s.readyInstances);
          this.set({ app: s.name, state: 'desired' }, s.replicas);
        }
      },
    });
  }

  /** One finished proxied request; for the proxy's `onRequestDone`, so cheap and never throwing. */
  requestDone(record: RequestRecord): void {
    let tally = this.tallies.get(record.app);
    if (!tally) {
      if (!this.declared(record.app)) return;
      tally = new RequestTally(this.requestDuration.child(record.app));
      this.tallies.set(record.app, tally);
    }
    tally.add(record.status, record.waited, record.durationMs / 1000);
  }

  /** An app's status changed (state, errors, counts): counts transitions and books container time. */
  stateChanged(status: AppStatus): void {
    const app = status.name;
    const previous = this.states.get(app);
    if (previous === undefined && !this.declared(app)) return;
    this.clock.update(status);
    if (previous === status.state) return;
    this.states.set(app, status.state);
    const facts = classifyTransition(previous, status);
    if (facts.coldStart) {
      this.coldStarts.inc({ app, result: facts.coldStart.ok ? 'ok' : 'failed' });
      if (facts.coldStart.seconds !== undefined) this.coldStartDuration.observe({ app }, facts.coldStart.seconds);
    }
    if (facts.startFailure) this.startFailures.inc({ app });
    if (facts.idleStop) this.idleStops.inc({ app });
  }

  /**
   * The app was deleted: its container clock stops and its series go. Apps that come and
   * go (a session or a preview each) would otherwise leave ~35 series apiece, for as long
   * as berth runs, in memory and in every scrape. Prometheus reads a series that ends as
   * stale; one of the same name made again counts from zero, which rate() takes as a reset.
   */
  appDeleted(app: string): void {
    this.clock.advance();
    this.clock.forget(app);
    this.states.delete(app);
    this.tallies.delete(app);
    this.requestDuration.delete(app);
    for (const result of ['ok', 'failed']) this.coldStarts.remove({ app, result });
    this.coldStartDuration.remove({ app });
    this.idleStops.remove({ app });
    this.startFailures.remove({ app });
  }

  /** Follows the gateway's events; returns the unsubscribe function. */
  follow(events: { subscribe(listener: (event: GatewayEvent) => void): () => void }): () => void {
    return events.subscribe((event) => {
      try {
        if (event.type === 'state') this.stateChanged(event.status);
        else if (event.type === 'deleted') this.appDeleted(event.app);
      } catch {
        // Metrics never break the publisher, and must not be dropped from it either.
      }
    });
  }

  /**
   * The Prometheus text exposition of every metric. Scrapes that arrive while one is
   * being rendered share it: a rendering reads every app's status and formats ~30
   * series per app on the event loop (seconds with 10,000 apps), so N concurrent
   * scrapers (an HA pair, a dashboard, a curl loop) would cost N times that, stalling
   * the proxy meanwhile. One that joins gets figures read a moment before it arrived,
   * as a slower network would have given it.
   */
  text(): Promise<string> {
    this.rendering ??= this.registry.metrics().finally(() => (this.rendering = undefined));
    return this.rendering;
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
