import type { Logger } from 'pino';
import { messageOf } from '../errors.js';
import type { GatewayEvent } from '../gateway/state-events.js';
import type { UsageStore } from '../store/store.js';
import { splitByDay, utcDay } from './usage-day.js';
import { UsageLedger, mergeRows } from './usage-ledger.js';
import { RequestCounts } from './request-counts.js';
import { buildReport, type UsageReport } from './usage-report.js';
import { shareBefore, usageShare, type UsageShare, type UsageStatus } from './usage-kind.js';

export interface AccountantOptions {
  store: UsageStore;
  logger?: Logger;
  /** The clock, in epoch milliseconds; tests drive a fake one. */
  now?: () => number;
  /**
   * A monotonic clock read beside `now`, to tell a step of the wall clock from time
   * passing (see wallStep). Default performance.now, or `now` itself when `now` is
   * given (a fake clock has no steps to tell).
   */
  monotonic?: () => number;
  /** How often gathered figures are written (one transaction). Default 10 s; 0 turns the timer off. */
  flushEveryMs?: number;
  /** The apps declared right now; apps that never change state are only known from here. */
  statuses?: () => readonly UsageStatus[];
  /** One app's status now: what an `applied` event is checked against, without reading every app's. */
  status?: (app: string) => UsageStatus | undefined;
  /**
   * Several gateways: whether this one counts container time now (it leads), so
   * that time is counted once. Requests are counted by each gateway for its own.
   */
  accrues?: () => boolean;
  /**
   * Rows of UTC days older than this are dropped, checked once an hour from the
   * flush timer (never on a request's path). Default: kept forever.
   */
  maxAgeMs?: number;
}

/** How often the retention is applied: rows are per day, so an hour late costs nothing. */
const PRUNE_EVERY_MS = 3_600_000;

/** A difference between the two clocks below this is timer jitter, not a step. */
const STEP_TOLERANCE_MS = 2_000;

/** Both clocks read at one moment. */
interface ClockLook {
  wallMs: number;
  monoMs: number;
}

/**
 * How far the wall clock stepped between two looks (NTP setting it, a VM resumed
 * with its clock set right): what it moved beyond the time that passed, 0 when
 * under STEP_TOLERANCE_MS. Positive forwards, negative backwards. Pure.
 */
export function wallStep(before: ClockLook, after: ClockLook): number {
  const step = after.wallMs - before.wallMs - (after.monoMs - before.monoMs);
  return Math.abs(step) < STEP_TOLERANCE_MS ? 0 : step;
}

/** Where the gateway's state events come from. */
export interface EventSource {
  subscribe(listener: (event: GatewayEvent) => void): () => void;
}

/** The time an app has spent in its current state since it was last accrued. */
interface OpenSpan extends UsageShare {
  fromMs: number;
}

/**
 * Counts what each app uses, per UTC day: container-seconds running, paused
 * and idle, and requests. The source of truth is the app state changes the
 * activator publishes: each change closes the span of the previous state and
 * adds it (cut at UTC midnight) to an in-memory ledger, which is written to
 * the store every `flushEveryMs` and on close, as one transaction that adds
 * to what is stored.
 *
 * Time while the gateway is down is not counted at all: berth cannot know
 * what the apps did then (an app may have been stopped by hand, or the host
 * may have been off). Counting starts at `start()`: an app found running
 * (adopted) accrues running time from there, one found stopped accrues idle
 * time from there. After `close()` nothing accrues until the next start.
 */
export class Accountant {
  private readonly store: UsageStore;
  private readonly logger?: Logger;
  private readonly now: () => number;
  private readonly monotonic: () => number;
  /** The clocks at the last look, to notice the wall clock stepping (absorbStep). */
  private lastLook?: ClockLook;
  private readonly flushEveryMs: number;
  private readonly statuses?: () => readonly UsageStatus[];
  private readonly maxAgeMs: number;
  private lastPruneMs?: number;
  private readonly open = new Map<string, OpenSpan>();
  private readonly ledger = new UsageLedger();
  /** Requests since the last checkpoint, as plain counters; folded into the ledger at flush time. */
  private readonly requests = new RequestCounts((app, day, n) => this.ledger.addRequests(app, day, n));
  private startedMs?: number;
  /** False while the gateway starts up: first events then account from the start (see shareBefore). */
  private settled = false;
  private closed = false;
  private failing = false;
  private timer?: NodeJS.Timeout;
  private unsubscribe?: () => void;
  /** Flushes and reports run one at a time, so a report never sees figures both in the store and in memory. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: AccountantOptions) {
    this.store = options.store;
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.monotonic = options.monotonic ?? options.now ?? (() => performance.now());
    this.flushEveryMs = options.flushEveryMs ?? 10_000;
    this.statuses = options.statuses;
    this.maxAgeMs = options.maxAgeMs ?? Number.POSITIVE_INFINITY;
    this.status = options.status;
    this.accrues = options.accrues ?? (() => true);
  }

  private readonly accrues: () => boolean;

  /** This gateway begins counting container time (it became the leader): open spans count from `atMs`, not from before. */
  startAccruing(atMs = this.now()): void {
    for (const span of this.open.values()) span.fromMs = Math.max(span.fromMs, atMs);
  }

  private readonly status?: (app: string) => UsageStatus | undefined;

  /** Starts counting now: listens to `events` (if given) and writes every `flushEveryMs`. */
  start(events?: EventSource): void {
    if (this.startedMs !== undefined || this.closed) return;
    this.absorbStep(); // the first look: steps are told from here on
    this.startedMs = this.now();
    this.unsubscribe = events?.subscribe((event) => this.onEvent(event));
    if (this.flushEveryMs > 0) {
      this.timer = setInterval(() => {
        if (this.settled) this.sync();
        void this.flush();
        // Monotonic: a wall clock set back an hour put the next prune an hour off.
        const nowMs = this.monotonic();
        if (this.lastPruneMs === undefined || nowMs - this.lastPruneMs >= PRUNE_EVERY_MS) {
          this.lastPruneMs = nowMs;
          void this.prune();
        }
      }, this.flushEveryMs);
      this.timer.unref();
    }
  }

  /**
   * Start-up is over (the first reconcile is done): every declared app the
   * events have not told about yet has been in its state since start().
   */
  settle(): void {
    if (this.settled) return;
    this.settled = true;
    const from = this.startedMs ?? this.now();
    for (const status of this.statuses?.() ?? []) {
      if (!this.open.has(status.name)) this.open.set(status.name, { ...usageShare(status), fromMs: from });
    }
  }

  /** An app's state (or replica count) changed at `atMs`. */
  observe(status: UsageStatus, atMs = this.now()): void {
    if (this.closed) return;
    this.absorbStep();
    const share = usageShare(status);
    const span = this.open.get(status.name);
    if (span) {
      this.accrue(status.name, span, atMs);
      this.open.set(status.name, { ...share, fromMs: Math.max(atMs, span.fromMs) });
      return;
    }
    if (!this.settled && this.startedMs !== undefined && atMs > this.startedMs) {
      // The first word of an app during start-up: what it did since the gateway started.
      this.accrue(status.name, { ...shareBefore(status), fromMs: this.startedMs }, atMs);
    }
    this.open.set(status.name, { ...share, fromMs: atMs });
  }

  /** The app is no longer declared: its time stops counting at `atMs`. */
  forget(app: string, atMs = this.now()): void {
    const span = this.open.get(app);
    if (!span) return;
    this.absorbStep();
    this.accrue(app, span, atMs);
    this.open.delete(app);
  }

  /**
   * One proxied request (or WebSocket) of `app`, counted on the UTC day of `atMs`
   * (epoch ms). On the hot path: a counter increment, the day is settled at flush.
   */
  request(app: string, atMs: number): void {
    if (this.closed || !app) return;
    this.requests.add(app, Number.isFinite(atMs) ? atMs : this.now());
  }

  /**
   * Brings the set of apps in line with `statuses`: apps that appeared (say,
   * through a config reload, which sends no event) start counting now, apps
   * that went stop, and a changed replica count takes effect.
   */
  sync(atMs = this.now()): void {
    if (!this.statuses || this.closed) return;
    const current = this.statuses();
    const names = new Set(current.map((s) => s.name));
    for (const app of [...this.open.keys()]) if (!names.has(app)) this.forget(app, atMs);
    for (const status of current) {
      const span = this.open.get(status.name);
      const share = usageShare(status);
      if (!span || span.kind !== share.kind || span.instances !== share.instances) this.observe(status, atMs);
    }
  }

  /**
   * `sync` for the one app an apply created or updated: its cost does not grow with
   * the number of apps (an apply of many apps sends one event per app). Other apps
   * that appeared without an event (a reload) are caught by the next timed sync.
   */
  private syncOne(app: string, atMs: number): void {
    if (!this.status) return this.sync(atMs);
    if (this.closed) return;
    const status = this.status(app);
    if (!status) return;
    const span = this.open.get(app);
    const share = usageShare(status);
    if (!span || span.kind !== share.kind || span.instances !== share.instances) this.observe(status, atMs);
  }

  /** Writes what was gathered up to now, in one transaction. Never rejects; on failure the figures are kept for the next try. */
  flush(): Promise<void> {
    return this.serial(async () => {
      this.checkpoint(this.now());
      const rows = this.ledger.take();
      if (rows.length === 0) return;
      try {
        await this.store.addUsage(rows);
        if (this.failing) this.logger?.info('usage figures are being written again');
        this.failing = false;
      } catch (err) {
        this.ledger.addRows(rows);
        if (!this.failing) this.logger?.error({ err: messageOf(err) }, 'cannot write usage figures; they are kept in memory and retried');
        this.failing = true;
      }
    });
  }

  /**
   * Drops the stored rows of days older than the retention (maxAgeMs) allows: the
   * day `maxAgeMs` ago stays whole. Never rejects; a failure is logged and the next
   * hour tries again. Returns how many rows went.
   */
  prune(): Promise<number> {
    if (this.maxAgeMs === Number.POSITIVE_INFINITY) return Promise.resolve(0);
    return this.serial(async () => {
      const beforeDay = utcDay(this.now() - this.maxAgeMs);
      try {
        const dropped = await this.store.pruneUsage(beforeDay);
        if (dropped > 0) this.logger?.debug({ dropped, beforeDay }, 'usage rows past the retention dropped');
        return dropped;
      } catch (err) {
        this.logger?.warn({ err: messageOf(err) }, 'cannot drop old usage rows; tried again in an hour');
        return 0;
      }
    });
  }

  /** The figures since the UTC day of `since` (all apps, or one), stored and gathered, up to now. */
  usage(query: { since: Date; app?: string }): Promise<UsageReport> {
    return this.serial(async () => {
      const sinceDay = utcDay(query.since.getTime());
      const stored = await this.store.queryUsage({ sinceDay, app: query.app });
      const nowMs = this.now();
      const live = this.liveLedger(nowMs)
        .rows()
        .filter((r) => r.day >= sinceDay && (query.app === undefined || r.app === query.app));
      return buildReport(mergeRows(stored, live), sinceDay, new Date(nowMs));
    });
  }

  /** Stops listening and writes everything up to now; nothing accrues afterwards. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.unsubscribe?.();
    clearInterval(this.timer);
    await this.flush();
    this.closed = true;
    this.open.clear();
  }

  private onEvent(event: GatewayEvent): void {
    const at = event.time.getTime();
    if (event.type === 'state') this.observe(event.status, at);
    else if (event.type === 'deleted') this.forget(event.app, at);
    else if (event.type === 'applied' && this.settled) this.syncOne(event.app, at);
  }

  /** Accrues every open span up to `atMs`; the spans go on from there. */
  private checkpoint(atMs: number): void {
    this.absorbStep();
    this.requests.fold();
    for (const [app, span] of this.open) {
      this.accrue(app, span, atMs);
      span.fromMs = Math.max(span.fromMs, atMs);
    }
  }

  /** The ledger as it would be after a checkpoint at `atMs`, leaving this one untouched. */
  private liveLedger(atMs: number): UsageLedger {
    this.absorbStep();
    const copy = new UsageLedger();
    copy.addRows(this.ledger.rows());
    this.requests.peek((app, day, n) => copy.addRequests(app, day, n));
    if (this.accrues()) for (const [app, span] of this.open) accrueInto(copy, app, span, atMs);
    return copy;
  }

  /**
   * The wall clock stepped since the last look: every open span (and the start)
   * moves by the step, so what accrues is the time that passed. Spans are wall-clock
   * times (they are cut at UTC midnights); a step forward of three hours counted
   * three hours of container time for every app at the next flush, and a step back
   * counted none until the clock caught up.
   */
  private absorbStep(): void {
    const look = { wallMs: this.now(), monoMs: this.monotonic() };
    const step = this.lastLook ? wallStep(this.lastLook, look) : 0;
    this.lastLook = look;
    if (step === 0) return;
    this.logger?.warn({ stepMs: Math.round(step) }, 'the wall clock stepped; usage counts the time that passed');
    for (const span of this.open.values()) span.fromMs += step;
    if (this.startedMs !== undefined) this.startedMs += step;
  }

  private accrue(app: string, span: OpenSpan, toMs: number): void {
    if (this.accrues()) accrueInto(this.ledger, app, span, toMs);
  }

  private serial<T>(step: () => Promise<T>): Promise<T> {
    const run = this.queue.then(step);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** Adds the span [span.fromMs, toMs) to the ledger, cut at UTC midnights. */
function accrueInto(ledger: UsageLedger, app: string, span: OpenSpan, toMs: number): void {
  for (const { day, ms } of splitByDay(span.fromMs, toMs)) ledger.addTime(app, day, span.kind, ms * span.instances);
}
