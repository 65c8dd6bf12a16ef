import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { AppState, AppStatus } from '../activator/app-status.js';
import type { GatewayEvent } from '../gateway/state-events.js';
import type { RequestRecord } from '../store/store.js';
import { VERSION } from '../version.js';
import { ContainerClock } from './container-clock.js';
import { ChunkedExposition, escapeLabelValue, formatValue } from './exposition.js';
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
 * berth's Prometheus metrics. Fed by the proxy's finished requests (`requestDone`, on the
 * hot path: a map lookup and a few increments) and by app state changes (`stateChanged`);
 * gauges are read from the apps' statuses when scraped. The gateway-wide families live in a
 * prom-client registry of their own (others, the worker pool's, join it); the per-app ones,
 * ~31 series per app, are written by hand and in chunks (exposition.ts), since a registry
 * formats every line as an object in one block of the event loop.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly tallies = new Map<string, RequestTally>();
  private readonly requestDuration = new LabelledHistogram('berth_request_duration_seconds', 'Time from receiving a proxied request to its end, cold-start wait included.', 'app', REQUEST_BUCKETS);
  /** Cold starts by app: [ok, failed]. */
  private readonly coldStarts = new Map<string, [number, number]>();
  private readonly coldStartDuration = new LabelledHistogram('berth_cold_start_duration_seconds', 'Time from the start of an app until its first instance was ready.', 'app', COLD_START_BUCKETS);
  private readonly idleStops = new Map<string, number>();
  private readonly startFailures = new Map<string, number>();
  private readonly statuses: () => readonly AppStatus[];
  /** Each app's state as last seen, to tell transitions. */
  private readonly states = new Map<string, AppState>();
  private readonly clock: ContainerClock;
  private readonly declared: (app: string) => boolean;
  /** The exposition being rendered now, shared by the scrapes that arrive meanwhile (see text()). */
  private rendering?: Promise<readonly string[]>;

  constructor(options: MetricsOptions = {}) {
    this.declared = options.declared ?? (() => true);
    const registers = [this.registry];
    this.statuses = options.statuses ?? (() => []);
    this.clock = new ContainerClock(options.nowMs);
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'berth_' });
    new Gauge({ name: 'berth_build_info', help: 'The running berth version (always 1).', labelNames: ['version', 'node'], registers }).set({ version: VERSION, node: process.version }, 1);
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
      let counts = this.coldStarts.get(app);
      if (!counts) this.coldStarts.set(app, (counts = [0, 0]));
      counts[facts.coldStart.ok ? 0 : 1]++;
      if (facts.coldStart.seconds !== undefined) this.coldStartDuration.child(app).observe(facts.coldStart.seconds);
    }
    if (facts.startFailure) this.startFailures.set(app, (this.startFailures.get(app) ?? 0) + 1);
    if (facts.idleStop) this.idleStops.set(app, (this.idleStops.get(app) ?? 0) + 1);
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
    this.coldStarts.delete(app);
    this.coldStartDuration.delete(app);
    this.idleStops.delete(app);
    this.startFailures.delete(app);
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
   * The Prometheus text exposition of every metric, in chunks to write one after another
   * (joined, the whole text is 18-30 MB with 10,000 apps: building that one string was a
   * stall of hundreds of milliseconds of its own). Scrapes that arrive while one is
   * being rendered share it: a rendering reads every app's status and formats ~30
   * series per app (~0.3 s with 10,000 apps, in chunks between which the proxy runs),
   * so N concurrent scrapers (an HA pair, a dashboard, a curl loop) would cost N times
   * that. One that joins gets figures read a moment before it arrived, as a slower
   * network would have given it.
   */
  chunks(): Promise<readonly string[]> {
    this.rendering ??= this.render().finally(() => (this.rendering = undefined));
    return this.rendering;
  }

  /** The exposition as one string (chunks() joined): for tests and small gateways. */
  async text(): Promise<string> {
    return (await this.chunks()).join('');
  }

  private async render(): Promise<string[]> {
    const gateway = await this.registry.metrics();
    const out = new ChunkedExposition();
    await out.family('berth_requests_total', 'Proxied requests by app, status class (aborted: the client went away first) and whether they waited for a cold start.', 'counter', this.tallies, ([app, tally]) => {
      const a = escapeLabelValue(app);
      let lines = '';
      for (let i = 0; i < tally.counts.length; i++) {
        const n = tally.counts[i]!;
        if (n > 0) lines += `${lines === '' ? '' : '\n'}berth_requests_total{app="${a}",code_class="${CODE_CLASSES[i >> 1]!}",cold_start="${i & 1 ? 'true' : 'false'}"} ${formatValue(n)}`;
      }
      return lines;
    });
    const duration = this.requestDuration;
    await out.family(duration.name, duration.help, 'histogram', duration.entries(), ([app, cells]) => duration.lines(app, cells));
    await out.family('berth_cold_starts_total', 'Starts of an app from zero, by result.', 'counter', this.coldStarts, ([app, [ok, failed]]) => {
      const a = escapeLabelValue(app);
      const lines: string[] = [];
      if (ok > 0) lines.push(`berth_cold_starts_total{app="${a}",result="ok"} ${formatValue(ok)}`);
      if (failed > 0) lines.push(`berth_cold_starts_total{app="${a}",result="failed"} ${formatValue(failed)}`);
      return lines.join('\n');
    });
    const coldStart = this.coldStartDuration;
    await out.family(coldStart.name, coldStart.help, 'histogram', coldStart.entries(), ([app, cells]) => coldStart.lines(app, cells));
    await out.family('berth_idle_stops_total', 'Apps stopped or paused because they were idle.', 'counter', this.idleStops, ([app, n]) => `berth_idle_stops_total{app="${escapeLabelValue(app)}"} ${formatValue(n)}`);
    await out.family('berth_start_failures_total', 'Apps that failed to start or crash-looped.', 'counter', this.startFailures, ([app, n]) => `berth_start_failures_total{app="${escapeLabelValue(app)}"} ${formatValue(n)}`);
    // One read of the statuses for the gauges and the clock: the same moment for all of them.
    const statuses = this.statuses();
    for (const s of statuses) this.clock.update(s);
    this.clock.advance();
    await out.family('berth_container_seconds_total', "Seconds of the apps' containers up (starting, running or draining) and paused, summed over instances.", 'counter', this.clock.totals(), ({ app, running, paused }) => {
      const a = escapeLabelValue(app);
      return `berth_container_seconds_total{app="${a}",state="running"} ${formatValue(running)}\nberth_container_seconds_total{app="${a}",state="paused"} ${formatValue(paused)}`;
    });
    await out.family('berth_queue_waiting', 'Requests waiting for an app to start.', 'gauge', statuses, (s) => `berth_queue_waiting{app="${escapeLabelValue(s.name)}"} ${formatValue(s.waiting)}`);
    await out.family('berth_requests_in_flight', 'Requests and WebSockets in flight, by app.', 'gauge', statuses, (s) => `berth_requests_in_flight{app="${escapeLabelValue(s.name)}"} ${formatValue(s.inFlight)}`);
    await out.family('berth_app_state', "1 for the app's current state, 0 for the others.", 'gauge', statuses, (s) => {
      const a = escapeLabelValue(s.name);
      return APP_STATES.map((state) => `berth_app_state{app="${a}",state="${state}"} ${s.state === state ? 1 : 0}`).join('\n');
    });
    await out.family('berth_instances', 'Instances by app: ready (in rotation now) and desired (the replicas it runs while up).', 'gauge', statuses, (s) => {
      const a = escapeLabelValue(s.name);
      return `berth_instances{app="${a}",state="ready"} ${formatValue(s.readyInstances)}\nberth_instances{app="${a}",state="desired"} ${formatValue(s.replicas)}`;
    });
    // The registry's text ends in a newline; one more makes the blank line between families.
    return [`${gateway}\n`, ...out.done()];
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
