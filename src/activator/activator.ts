import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { messageOf, NoOtherInstanceError, NotFoundError } from '../errors.js';
import type { Instance, Runtime, RuntimeEvent } from '../runtime/runtime.js';
import type { Admission, Admitted, AdmitOptions, PublicStatus, Upstream, UpstreamSource } from '../proxy/upstream.js';
import { unlessLeft } from './leave-queue.js';
import { RecentStartFailure } from './start-errors.js';
import { waitingDecision, type WaitingInfo } from './waiting-policy.js';
import type { AppSpec } from '../spec/types.js';
import { containerSpecHash } from '../spec/hash.js';
import { wakeOrder } from '../spec/depends-on.js';
import type { InputSource } from './input-source.js';
import { ActivityOwners } from './activity-owners.js';
import { APP_DOWN, AppController, type AppDefaults, type AppLease, type LeaderStopped } from './app-controller.js';
import type { AppStatus } from './app-status.js';
import { planReconcile, type ReconcileAction, type RemovedApp } from './reconcile-plan.js';
import { planResync, type BelievedApp, type ResyncAction } from './resync-plan.js';
import { DEFAULT_RESYNC_EVERY_MS, ResyncLoop } from './resync-loop.js';
import { launchRefusal } from './launch-policy.js';
import { DEFAULT_CONCURRENT_IDLE_STOPS, IdleStopSlots } from './idle-stop-slots.js';
import { DEFAULT_CONCURRENT_STARTS, StartBudget, type StartLimits } from './start-budget.js';
import type { StopRetrySchedule } from './stop-retry.js';
import { failureOwner, type KeepFailure } from './kept-failure.js';
import type { StoredFailure } from '../store/store.js';

/**
 * A browser reloading the waiting page within this time of a failed start is
 * shown the failure instead of starting the app again, so a page without
 * JavaScript (meta refresh) does not loop forever on a broken app.
 */
const RECENT_FAILURE_MS = 30_000;

/** How long a leader removing a deleted app's or an orphan's containers waits for another gateway's start of the app (under its lease) to end. */
const REMOVAL_LEASE_WAIT_MS = 30_000;

export interface ActivatorOptions {
  runtime: Runtime;
  logger: Logger;
  /** Every state change of every app, for logs, the API's event stream and metrics. */
  onChange?: (status: AppStatus) => void;
  defaults: AppDefaults;
  /** Serves GET /_berth/input/<app> (input.as: url). */
  input?: Pick<InputSource, 'inputFor'>;
  /** The store's identity: containers labelled with another are never touched, this one's orphans are removed. */
  storeId?: string;
  /** Gap between two resyncs with the engine's container list (config `resync`); default 10 s. */
  resyncEveryMs?: number;
  /** How many never-started apps may have a container created ahead at once (default: no bound). */
  createAhead?: () => number;
  /** An app's ready instances may have changed; see AppControllerDeps.onReadyChange. */
  onReadyChange?: (app: string) => void;
  /** The proxy workers' barrier; see AppControllerDeps.quiesce. */
  quiesce?: (app: string) => Promise<void>;
  /** Several gateways: see AppControllerDeps.acts. Absent: this gateway always acts. */
  acts?: () => boolean;
  /** Several gateways: see AppControllerDeps.lease. */
  lease?: AppLease;
  /** Several gateways: see AppControllerDeps.leaderStopped. */
  leaderStopped?: LeaderStopped;
  /**
   * Several gateways: whether `app` is declared in the store now. Another gateway may
   * have created it (and cold-started it) after this one read the desired apps; its
   * container is then no orphan. Absent: what this gateway read is the truth.
   */
  declared?: (app: string) => Promise<boolean>;
  /** The bounds on starts (config `limits`); default DEFAULT_CONCURRENT_STARTS at once, no bound on the apps up. */
  startLimits?: StartLimits;
  /** Most idle stops (or pauses) under way at once (config `limits.concurrentIdleStops`); default DEFAULT_CONCURRENT_IDLE_STOPS. */
  concurrentIdleStops?: number;
  /** Several gateways: what requests for `app` must wait on first (the leader's fence), or undefined. */
  heldFor?: (app: string) => Promise<void> | undefined;
  /** This gateway's own proxy traffic (a request or WebSocket began or ended), which several gateways share. */
  onActivity?: (app: string, began: boolean) => void;
  /** Each app's last request before this gateway started (epoch ms), as saved: its idle timeout counts on from it. */
  lastRequests?: ReadonlyMap<string, number>;
  /** Each app's failure kept from before this gateway started: the app shows it until it starts again. */
  failures?: ReadonlyMap<string, StoredFailure>;
  /** Keeps an app's failure in the store, or forgets it; see AppControllerDeps.keepFailure. */
  keepFailure?: KeepFailure;
  /** When a stop the engine did not carry out is tried again; see AppControllerDeps.stopRetry (tests shorten it). */
  stopRetry?: StopRetrySchedule;
}

/**
 * Keeps the running world in line with the desired apps: adopts matching
 * containers, creates missing ones, starts apps that must always run, restarts
 * them when they die, and wakes the others on demand for the proxy.
 */
export class Activator implements UpstreamSource {
  private readonly apps = new Map<string, AppController>();
  /**
   * Deleted apps still stopping: no longer routed or listed, but their stop waits for
   * the requests in flight, so those requests' ends must still reach them.
   */
  private readonly leaving = new Map<string, AppController>();
  private readonly runtime: Runtime;
  private readonly logger: Logger;
  private readonly onChange: (status: AppStatus) => void;
  private readonly events = new AbortController();
  private readonly restartTimers = new Map<string, NodeJS.Timeout>();
  private readonly resyncLoop: ResyncLoop;
  private defaults: AppDefaults;

  constructor(options: ActivatorOptions) {
    this.defaults = options.defaults;
    this.runtime = options.runtime;
    this.logger = options.logger;
    this.onChange = options.onChange ?? (() => undefined);
    this.input = options.input;
    this.storeId = options.storeId;
    this.resyncLoop = new ResyncLoop(options.resyncEveryMs ?? DEFAULT_RESYNC_EVERY_MS, () => this.resyncPass(), this.logger);
    this.createAhead = options.createAhead ?? (() => Number.POSITIVE_INFINITY);
    this.onReadyChange = options.onReadyChange;
    this.quiesce = options.quiesce;
    this.acts = options.acts ?? (() => true);
    this.lease = options.lease;
    this.leaderStopped = options.leaderStopped;
    this.declared = options.declared;
    this.heldFor = options.heldFor;
    this.onActivity = options.onActivity;
    this.restoredLastRequests = new Map(options.lastRequests);
    this.restoredFailures = new Map(options.failures);
    this.keepFailure = options.keepFailure;
    this.stopRetrySchedule = options.stopRetry;
    this.startBudget = new StartBudget(options.startLimits ?? { concurrentStarts: DEFAULT_CONCURRENT_STARTS }, () => this.appsUp.size);
    this.idleStopSlots = new IdleStopSlots(options.concurrentIdleStops ?? DEFAULT_CONCURRENT_IDLE_STOPS);
  }

  private readonly startBudget: StartBudget;

  /** Start slots (limits.concurrentStarts) held now: every start that ended, however, gave its own back. */
  get startSlotsInUse(): number {
    return this.startBudget.inUse;
  }
  private readonly idleStopSlots: IdleStopSlots;
  private readonly stopRetrySchedule?: StopRetrySchedule;
  /** Declared apps with something up (starting, running, paused or stopping): what limits.runningApps bounds. */
  private readonly appsUp = new Set<string>();

  private readonly acts: () => boolean;
  private readonly leaderStopped: LeaderStopped | undefined;
  /** Saved last requests not yet handed to their app's controller: each one is taken once, by the app's first controller. */
  private readonly restoredLastRequests: Map<string, number>;
  /** Kept failures not yet handed to their app's controller: taken as the saved last requests are. */
  private readonly restoredFailures: Map<string, StoredFailure>;
  private readonly keepFailure: KeepFailure | undefined;
  private readonly lease: AppLease | undefined;
  private readonly declared: ((app: string) => Promise<boolean>) | undefined;
  private readonly heldFor: ((app: string) => Promise<void> | undefined) | undefined;
  private readonly onActivity: ((app: string, began: boolean) => void) | undefined;

  private readonly createAhead: () => number;
  /** Apps whose container was created ahead and that have not started since: the create-ahead budget in use. */
  private readonly createdAhead = new Set<string>();

  private readonly onReadyChange: ((app: string) => void) | undefined;
  private readonly quiesce: ((app: string) => Promise<void>) | undefined;

  private readonly storeId: string | undefined;

  private readonly input: Pick<InputSource, 'inputFor'> | undefined;

  inputFor(app: string, secret: string): string | undefined {
    return this.input?.inputFor(app, secret);
  }

  pick(app: string, req?: IncomingMessage, exclude?: string): Upstream | undefined {
    return this.apps.get(app)?.pick(req, exclude);
  }

  /**
   * The proxy's one question (see AdmitOptions). The ready answer is the
   * controller's reused object and `options` is read without being kept, so
   * the hot path allocates nothing.
   */
  admitReady(app: string, req: IncomingMessage, exclude?: string): Admitted | undefined {
    if (this.heldFor?.(app)) return undefined;
    const ready = this.apps.get(app)?.admitReady(req, exclude);
    return ready?.kind === 'ready' ? ready : undefined;
  }

  admit(app: string, req: IncomingMessage, options?: AdmitOptions): Admission {
    const held = this.heldFor?.(app);
    if (held) return waitFor((left) => unlessLeft(held, left).then(() => this.acquireFor(app, req, left)));
    const controller = this.apps.get(app);
    if (!controller) return this.reconciling.size === 0 ? { kind: 'fail', error: new NotFoundError(`app ${app} is not declared`) } : waitFor((left) => this.undeclared(app, req, left));
    const exclude = options?.exclude;
    const ready = controller.admitReady(req, exclude);
    if (ready) return ready;
    // A retry never wakes the app itself: whether the failed instance is gone is `unreachable`'s to find out.
    if (exclude !== undefined) return { kind: 'fail', error: new NoOtherInstanceError(app, exclude) };
    // A socket cannot show a page or follow its refresh: it is held as an API client is.
    if (options?.upgrade) return waitFor((left) => controller.acquireFor(req, left));
    // A browser would get a waiting page that reloads until an app idles out elsewhere: it is told why instead.
    const full = controller.budgetRefusal();
    if (full) return { kind: 'fail', error: full };
    const info = this.waiting(app)!;
    switch (waitingDecision(info, req)) {
      case 'recentFailure':
        return { kind: 'fail', error: new RecentStartFailure(info.recentFailure ?? 'the last start failed') };
      case 'page':
        controller.acquire().catch(() => undefined);
        return { kind: 'page', title: info.title, message: info.message };
      case 'wait':
        return waitFor((left) => controller.acquireFor(req, left));
    }
  }

  /**
   * Routes are set before reconcile makes the controllers (at start, and at each
   * apply), so a request may come for an app that is routed but not yet known
   * here: while a reconcile runs it waits for it, instead of a false 404.
   */
  private async undeclared(app: string, req: IncomingMessage, left: AbortSignal): Promise<Admitted> {
    // Until no reconcile is left that may declare it (a hold hands over to the reconcile it waited for).
    while (this.reconciling.size > 0 && !this.apps.has(app) && !left.aborted) await Promise.allSettled([...this.reconciling]);
    const controller = this.apps.get(app);
    if (!controller) throw new NotFoundError(`app ${app} is not declared`);
    return controller.acquireFor(req, left);
  }

  acquire(app: string, req?: IncomingMessage): Promise<Upstream> {
    const controller = this.apps.get(app);
    return controller ? controller.acquire(req) : Promise.reject(new NotFoundError(`app ${app} is not declared`));
  }

  private acquireFor(app: string, req: IncomingMessage, left: AbortSignal): Promise<Admitted> {
    const controller = this.apps.get(app);
    return controller ? controller.acquireFor(req, left) : Promise.reject(new NotFoundError(`app ${app} is not declared`));
  }

  began(app: string): void {
    this.countBegan(app);
    this.onActivity?.(app, true);
  }

  ended(app: string): void {
    this.countEnded(app);
    this.onActivity?.(app, false);
  }

  /** Which controller each request's end belongs to, when a name was deleted and created again meanwhile. */
  private readonly owners = new ActivityOwners<AppController>();

  private countBegan(app: string): void {
    const controller = this.counting(app);
    if (!controller) return;
    controller.began();
    this.owners.began(app, controller);
  }

  /** Taken off the controller the request was counted by (activity-owners.ts), even one deleted since. */
  private countEnded(app: string): void {
    this.owners.ended(app)?.ended();
  }

  /** Whose idle clock counts `app`'s requests: the declared app's, or a deleted one's still draining. */
  private counting(app: string): AppController | undefined {
    return this.apps.get(app) ?? this.leaving.get(app);
  }

  /** Several gateways: the leader announced it stopped `app` (see AppController.leaderStopped). */
  leaderAnnouncedStop(app: string, reason: string, atMs: number): void {
    this.apps.get(app)?.leaderStopped(reason, atMs);
  }

  /**
   * Several gateways: the leader is stopping `app`. Its drain waits on this gateway's WebSockets too (they are
   * in the activity it reads), and they never end by themselves: told to go away now, as the leader's own are.
   */
  leaderStopping(app: string): void {
    this.apps.get(app)?.tunnelsGoAway();
  }

  /** Other gateways' activity on `app` (not this gateway's own: it is not published again). */
  peerActivity(app: string, began: number, ended: number): void {
    for (let i = 0; i < began; i++) this.countBegan(app);
    for (let i = 0; i < ended; i++) this.countEnded(app);
  }

  private waiting(app: string): WaitingInfo | undefined {
    const controller = this.apps.get(app);
    if (!controller) return undefined;
    const page = { ...this.defaults.waitingPage, ...controller.spec.waitingPage };
    const retryMs = controller.retryDelayMs();
    return {
      mode: controller.spec.waiting,
      title: page.title,
      message: page.message,
      // Shown to the client that asked: the public form, not the engine's words.
      recentFailure: controller.failedWithin(RECENT_FAILURE_MS),
      retryAfterS: retryMs > 0 ? Math.ceil(retryMs / 1000) : undefined,
    };
  }

  unreachable(app: string, instanceId: string): Promise<boolean> {
    return this.apps.get(app)?.unreachable(instanceId) ?? Promise.resolve(false);
  }

  publicStatus(app: string): PublicStatus | undefined {
    const controller = this.apps.get(app);
    if (!controller) return undefined;
    const { state } = controller.status();
    // Anyone who can reach the app's host reads this: the last error itself (the engine's words, host paths) stays on the admin API.
    return { state, ready: state === 'running', error: controller.publicLastError() };
  }

  /**
   * The first reconcile is done: saved last requests and kept failures not taken by then
   * belong to apps no longer declared, and must not be handed to a new app made later by that name.
   */
  dropRestoredLastRequests(): void {
    this.restoredLastRequests.clear();
    // So are kept failures: a new app of that name did not fail.
    this.restoredFailures.clear();
  }

  /**
   * This gateway took the lead: the failures the old leader kept (read from the store now) are shown
   * as it showed them. Until then this gateway showed the leader's view of its apps; its own was a
   * plain `stopped` for an app whose start failed at the leader, and it would have stayed so until a
   * restart read the rows. An app this gateway sees up, starting or failed itself keeps its own state.
   */
  takeKeptFailures(failures: ReadonlyMap<string, StoredFailure>): void {
    for (const [name, failure] of failures) this.apps.get(name)?.restoreFailure(failure, true);
  }

  /** Every declared app's last request (epoch ms), for LastRequestKeeper; apps with none are left out. */
  lastRequests(): Array<readonly [string, number]> {
    const out: Array<readonly [string, number]> = [];
    for (const [name, controller] of this.apps) {
      const at = controller.lastRequestAtMs;
      if (at !== undefined) out.push([name, at]);
    }
    return out;
  }

  statuses(): AppStatus[] {
    return [...this.apps.values()].map((c) => c.status()).sort((a, b) => a.name.localeCompare(b.name));
  }

  status(app: string): AppStatus | undefined {
    return this.apps.get(app)?.status();
  }

  /** Follows the engine's events so exits and crashes are noticed at once, and resyncs periodically for the events lost. */
  start(): void {
    void this.followEvents();
    this.resyncLoop.start();
  }

  /** One resync pass now, or the one under way (see resync-plan.ts); resolves whether it completed. */
  resync(): Promise<boolean> {
    return this.resyncLoop.runNow();
  }

  /** New gateway defaults (on reload); apps read them when they next need them. */
  setDefaults(defaults: AppDefaults): void {
    this.defaults = defaults;
    for (const controller of this.apps.values()) controller.policyChanged();
  }

  /** The controller of one app, for the API's start/stop verbs. */
  controller(app: string): AppController | undefined {
    return this.apps.get(app);
  }

  close(): void {
    this.events.abort();
    this.resyncLoop.stop();
    for (const timer of this.restartTimers.values()) clearTimeout(timer);
    this.idleStopSlots.close();
    for (const controller of this.apps.values()) controller.close();
  }

  /**
   * Brings the running world in line with `desired` (see planReconcile for the
   * decisions). `removed` names apps that were deleted: their containers go
   * (volumes stay unless purged). Containers of another store are never touched;
   * this store's orphans are removed; unlabelled ones of undeclared apps are left.
   * Resolves with the names of removed apps whose containers could not all be removed.
   * `scoped`: `desired` and `removed` are only the apps that changed (an API apply or
   * delete); the others are left as they are and no orphans are looked for.
   */
  async reconcile(desired: readonly AppSpec[], removed: readonly (string | RemovedApp)[] = [], options: { purgeVolumes?: boolean; scoped?: boolean } = {}): Promise<string[]> {
    const run = this.reconcileNow(desired, removed, options);
    this.reconciling.add(run);
    try {
      return await run;
    } finally {
      this.reconciling.delete(run);
    }
  }

  /** Reconciles in progress: a request for an app they may declare waits for them (see admitUndeclared). */
  private readonly reconciling = new Set<Promise<unknown>>();

  /**
   * Requests for apps not declared here yet wait until `until` settles: the
   * gateway listens before its first reconcile begins (an app's input URL needs
   * the proxy's port), and a request in between would get a false 404.
   */
  holdUndeclared(until: Promise<unknown>): void {
    // A gateway that fails to start never reconciles: closing releases the hold.
    const closed = new Promise((resolve) => this.events.signal.addEventListener('abort', resolve, { once: true }));
    const held = Promise.race([until, closed]).catch(() => undefined);
    this.reconciling.add(held);
    void held.then(() => this.reconciling.delete(held));
  }

  private async reconcileNow(desired: readonly AppSpec[], removed: readonly (string | RemovedApp)[], options: { purgeVolumes?: boolean; scoped?: boolean }): Promise<string[]> {
    const gone = removed.map((r) => (typeof r === 'string' ? { name: r, purgeVolumes: options.purgeVolumes ?? false } : r));
    const existing = options.scoped ? await this.containersOf([...desired.map((s) => s.name), ...gone.map((r) => r.name)]) : await this.runtime.list();
    const planned = planReconcile({
      desired: desired.map((spec) => ({ name: spec.name, containerHash: containerSpecHash(spec), alwaysOn: spec.scale.min >= 1, known: this.apps.has(spec.name) })),
      observed: existing,
      removed: gone,
      storeId: this.storeId,
    });
    // A gateway that does not lead only follows: it knows the apps and adopts their containers; the leader creates, starts and removes.
    const leads = this.acts();
    const actions = leads ? planned : planned.filter((a) => a.kind === 'adopt' || a.kind === 'update' || a.kind === 'stop');
    const failed = new Set<string>();
    const removeOne = async (a: Extract<ReconcileAction, { kind: 'remove' }>) => {
      await this.runtime.remove(a.id, { purgeVolumes: a.purgeVolumes }).catch((err: unknown) => {
        // Gone since the list above (the app's own stop, a start it called off, or the engine removed it):
        // what this remove was for. Counted as failed, the delete kept its tombstone for a retry and
        // warned of a failure each time a spawner deleted an app mid-start.
        if (err instanceof NotFoundError) return this.logger.debug({ app: a.app, container: a.name }, 'container already gone');
        failed.add(a.app);
        this.logger.warn({ app: a.app, container: a.name, err: messageOf(err) }, 'remove failed');
      });
    };
    // A delete with purgeVolumes of an app with no container left (removeAfter took it, or it went since the
    // list) had no remove to take the volume with it: it stayed, and an app made again under the name was
    // handed the deleted one's data. Asked after the removals: one that took the volume leaves nothing to do.
    const purgeLeftVolume = async (app: RemovedApp) => {
      if (!app.purgeVolumes || failed.has(app.name) || !this.runtime.purgeVolume) return;
      await this.runtime.purgeVolume(app.name).catch((err: unknown) => {
        failed.add(app.name);
        this.logger.warn({ app: app.name, err: messageOf(err) }, 'removing the volume failed');
      });
    };
    const byApp = new Map<string, ReconcileAction[]>();
    // Several gateways: a leader removes deleted apps' containers under their leases (below).
    const leasedRemoval = leads && this.lease !== undefined;
    // The apps that go are stopped side by side, before anything else: one after the other, one app's
    // drawn-out stop (a request it drains, a container that ignores SIGTERM to the end of its grace)
    // held every other's, and the whole change with them. Each app's own steps still run in order.
    // Every stop is waited for, as the loop did, even when one fails: the first failure is then thrown.
    const stops = await Promise.allSettled(actions.flatMap((action) => (action.kind === 'stop' ? [this.dropController(action.app, leads)] : [])));
    const stopFailed = stops.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (stopFailed) throw stopFailed.reason;
    for (const action of actions) {
      if (action.kind === 'stop') continue;
      else if (action.kind === 'remove' && action.why === 'deleted') {
        if (!leasedRemoval) await removeOne(action);
      } else if (action.kind === 'leave') {
        if (action.why === 'unlabelled') this.logger.warn({ app: action.app, container: action.name }, 'berth-managed container of an undeclared app, without a berth.store label (an older berth made it), left as it is');
        else this.logger.debug({ app: action.app, container: action.name }, "another berth store's container left as it is");
      } else if (action.kind === 'remove' && action.why === 'orphan') {
        byApp.set('', [...(byApp.get('') ?? []), action]);
      } else byApp.set(action.app, [...(byApp.get(action.app) ?? []), action]);
    }
    // With several gateways, another may be cold-starting a deleted app right now (it has not heard of the
    // delete yet): the containers are removed under the app's lease, so after that start, and listed again
    // there. Removed from the list read before it, the start's container came back (the start made another)
    // and ran on with no app behind it.
    const desiredNames = new Set(desired.map((s) => s.name));
    for (const app of leasedRemoval ? gone.filter((r) => !desiredNames.has(r.name)) : []) {
      await this.lease!(app.name, REMOVAL_LEASE_WAIT_MS, async () => {
        for (const c of await this.runtime.list({ app: app.name })) {
          if (this.storeId !== undefined && c.store !== undefined && c.store !== this.storeId) continue;
          await removeOne({ kind: 'remove', app: app.name, id: c.id, name: c.name, purgeVolumes: app.purgeVolumes, why: 'deleted' });
        }
        await purgeLeftVolume(app);
      });
    }
    if (leads && !leasedRemoval) for (const app of gone.filter((r) => !desiredNames.has(r.name))) await purgeLeftVolume(app);
    const orphans = byApp.get('') ?? [];
    byApp.delete('');
    const specs = new Map(desired.map((s) => [s.name, s]));
    await Promise.all([...byApp].map(([name, steps]) => this.reconcileApp(specs.get(name)!, steps, existing)));
    for (const orphan of orphans) {
      if (orphan.kind !== 'remove') continue;
      const removeOrphan = async () => {
        if (this.apps.has(orphan.app)) return;
        // Asked under the lease: an app created and started at another gateway since the desired apps were read is
        // declared by now (its start holds the lease until its container exists). A store that does not answer: left.
        if (this.declared && (await this.declared(orphan.app).catch(() => true))) return;
        this.logger.warn({ app: orphan.app, container: orphan.name }, "removing a container of this store's gateway whose app is not declared (an interrupted delete)");
        await removeOne(orphan);
      };
      await (this.lease ? this.lease(orphan.app, REMOVAL_LEASE_WAIT_MS, removeOrphan) : removeOrphan());
    }
    return [...failed];
  }

  /** The containers of these apps only: asked by app when they are few, else filtered from one list. */
  private async containersOf(apps: readonly string[]): Promise<Instance[]> {
    if (apps.length === 0) return [];
    if (apps.length <= 4) return (await Promise.all(apps.map((app) => this.runtime.list({ app })))).flat();
    const wanted = new Set(apps);
    return (await this.runtime.list()).filter((i) => wanted.has(i.app));
  }

  /** Carries out one desired app's planned steps, in order. */
  private async reconcileApp(spec: AppSpec, steps: readonly ReconcileAction[], existing: readonly Instance[]): Promise<void> {
    let controller = this.apps.get(spec.name);
    // Only this reconcile's failure is reported, not one an earlier apply already reported.
    this.lastErrors.delete(spec.name);
    try {
      for (const step of steps) {
        if (step.kind === 'update') await controller!.update(spec);
        // Containers of an older spec would only serve stale code: they go (volumes stay), and starts make new ones.
        else if (step.kind === 'remove') await this.runtime.remove(step.id);
        else if (step.kind === 'adopt') {
          controller = this.createController(spec);
          await controller.adopt(existing.filter((i) => step.ids.includes(i.id)));
        }
        // Creating the container now (not at the first request) makes that start faster and finds name conflicts early;
        // for at most `createAhead` never-started apps, so many registered apps do not weigh on the engine.
        // Nor for an app the policy now refuses: its first request gets the reason instead.
        else if (step.kind === 'create' && this.createdAhead.size < this.createAhead() && launchRefusal(spec, this.defaults.policy) === undefined) {
          this.createdAhead.add(spec.name);
          await controller!.adopt([await this.runtime.ensure(spec, 0)]);
        }
        else if (step.kind === 'start') await controller!.acquire();
      }
    } catch (err) {
      // A step before the adoption failed (a stale container that would not go): the app is declared all the same,
      // shows why, and its next start tries again (ensure replaces a container of an older spec by name).
      controller ??= this.createController(spec);
      // A rolled-back update leaves the old revision serving: that is not a failed app.
      if (controller.currentState !== 'running') controller.fail(messageOf(err), failureOwner(err));
      this.logger.error({ app: spec.name, err: messageOf(err) }, 'app could not be reconciled');
      this.lastErrors.set(spec.name, messageOf(err));
    }
  }

  private createController(spec: AppSpec): AppController {
    const controller = new AppController(spec, {
      runtime: this.runtime,
      logger: this.logger,
      // A start whose answer was lost in the outage may have run its container: a resync adopts it now.
      engineBack: () => void this.resync(),
      onChange: (status) => {
        // Started (or failed) once: its container is no longer one made ahead.
        if (status.state !== 'stopped') this.createdAhead.delete(status.name);
        if (this.apps.get(status.name) === controller) {
          if (APP_DOWN.has(status.state)) this.appsUp.delete(status.name);
          else this.appsUp.add(status.name);
        }
        // A start that failed, however it was asked for (reconcile, the API, a request), leaves an app that
        // must always run down: it is tried again, after the crash-loop backoff once there is one.
        if ((status.state === 'failed' || status.state === 'crashloop') && controller.spec.scale.min >= 1 && this.acts()) this.scheduleRestart(controller);
        this.onChange(status);
      },
      defaults: () => this.defaults,
      wakeDependencies: (s) => this.wakeDependencies(s),
      onReadyChange: this.onReadyChange,
      quiesce: this.quiesce,
      acts: this.acts,
      lease: this.lease,
      leaderStopped: this.leaderStopped,
      startBudget: this.startBudget,
      idleStopSlots: this.idleStopSlots,
      stopRetry: this.stopRetrySchedule,
      keepFailure: this.keepFailure,
    });
    const failure = this.restoredFailures.get(spec.name);
    if (failure) controller.restoreFailure(failure);
    this.restoredFailures.delete(spec.name);
    const saved = this.restoredLastRequests.get(spec.name);
    if (saved !== undefined) controller.restoreLastRequest(saved);
    this.restoredLastRequests.delete(spec.name);
    this.apps.set(spec.name, controller);
    return controller;
  }

  /**
   * Wakes the apps `spec` depends on, dependencies first, each ready before the
   * next, and holds each up (as if a request were open) until the returned
   * release is called when the dependent stops.
   */
  private async wakeDependencies(spec: AppSpec): Promise<() => void> {
    const held: AppController[] = [];
    const release = () => {
      for (const c of held.splice(0)) c.ended();
    };
    try {
      for (const name of this.wakeOrderOf(spec)) {
        const dependency = this.apps.get(name)!;
        dependency.began();
        held.push(dependency);
        await dependency.acquire();
      }
    } catch (err) {
      release();
      throw new Error(`a dependency could not be woken: ${messageOf(err)}`);
    }
    return release;
  }

  /**
   * Dependencies of `spec` in wake order (see `wakeOrder`). A dependency that is
   * not declared (validation refuses that; a race with a delete could not) is
   * named rather than silently skipped.
   */
  private wakeOrderOf(spec: AppSpec): string[] {
    const specs = new Map([...this.apps].map(([name, c]) => [name, c.spec] as const));
    specs.set(spec.name, spec);
    const order = wakeOrder(spec.name, specs);
    const missing = [spec, ...order.map((name) => specs.get(name)!)].flatMap((s) => s.dependsOn).find((dep) => !specs.has(dep));
    if (missing) throw new NotFoundError(`app ${spec.name} depends on ${missing}, which is not declared`);
    return order;
  }

  /** The last reconcile error of each app (e.g. a rolled-back update), for apply to report. */
  readonly lastErrors = new Map<string, string>();

  private async dropController(name: string, stop = true): Promise<void> {
    const controller = this.apps.get(name);
    this.apps.delete(name);
    this.appsUp.delete(name);
    this.createdAhead.delete(name);
    if (controller) {
      // Closing first cancels a start in progress: its waiters fail at once instead of holding the delete.
      controller.close(`app ${name} was deleted`);
      // A gateway that does not lead forgets the app; the leader stops and removes its containers.
      if (!stop) return;
      this.leaving.set(name, controller);
      try {
        await controller.stop('deleted');
      } finally {
        if (this.leaving.get(name) === controller) this.leaving.delete(name);
      }
    }
  }

  /**
   * Lets go of deleted apps whose containers could not be removed (the engine is
   * down): their controllers are closed, not stopped (a stop needs the engine), so
   * nothing serves, shows or counts them as declared any more. Their containers go
   * when the delete is retried (a reconcile with their tombstones).
   */
  async release(names: readonly string[]): Promise<void> {
    for (const name of names) await this.dropController(name, false);
  }

  /** Whether this gateway acts now (leads, or is alone). */
  get acting(): boolean {
    return this.acts();
  }

  private async followEvents(): Promise<void> {
    const signal = this.events.signal;
    try {
      for await (const event of this.runtime.events(signal)) {
        const controller = this.apps.get(event.app);
        if (!controller) continue;
        // One event whose handling failed is logged and the stream read on: thrown out of this loop, it ended
        // the stream for good, and every later exit, start and pause went unseen until a resync looked.
        try {
          this.handleEvent(controller, event);
        } catch (err) {
          this.logger.error({ app: event.app, event: event.kind, instance: event.instanceId, err: messageOf(err) }, 'handling an engine event failed');
        }
      }
    } catch (err) {
      if (!signal.aborted) this.logger.error({ err: messageOf(err) }, 'engine event stream ended');
    }
  }

  private handleEvent(controller: AppController, event: RuntimeEvent): void {
    if (event.kind === 'network') controller.networkChanged(event.instanceId);
    if (event.kind === 'changed') controller.instanceChanged(event.instanceId);
    // An unpause berth did not do is a start as far as serving goes: the container is looked at and adopted.
    if (event.kind === 'start' || event.kind === 'unpause') this.started(controller, event.instanceId);
    if (event.kind === 'pause') controller.instancePaused(event.instanceId, event.time);
    if (event.kind === 'oom') controller.instanceOutOfMemory(event.instanceId);
    if (event.kind === 'kill' && event.signal !== undefined) controller.instanceSignalled(event.instanceId, event.signal, event.time);
    if (event.kind === 'destroy') controller.instanceRemoved(event.instanceId);
    if (event.kind === 'die') this.exited(controller, event.instanceId, event.exitCode, event.time);
  }

  private started(controller: AppController, instanceId: string): void {
    void controller.instanceStarted(instanceId).catch((err: unknown) => this.logger.warn({ app: controller.name, err: messageOf(err) }, 'adopting a container failed'));
  }

  private exited(controller: AppController, instanceId: string, exitCode: number | undefined, at?: Date, engineError?: string): void {
    const unexpected = controller.instanceExited(instanceId, exitCode, at, engineError);
    if (unexpected && controller.spec.scale.min >= 1 && this.acts()) this.scheduleRestart(controller);
  }

  /**
   * Checks what each controller believes against the engine's list, for changes
   * whose events were lost. Only apps whose belief did not change while the list
   * was read are corrected: the list is a snapshot from before any step taken
   * meanwhile, and would undo it.
   */
  private async resyncPass(): Promise<void> {
    const before = [...this.apps.values()].map((controller) => ({ controller, belief: controller.believed() }));
    const observed = await this.runtime.list();
    const steady = before.filter(({ controller, belief }) => this.apps.get(controller.name) === controller && sameBelief(controller.believed(), belief));
    const actions = planResync({ believed: steady.map((s) => s.belief), observed, storeId: this.storeId });
    for (const action of actions) this.applyResync(action);
  }

  private applyResync(action: ResyncAction): void {
    const controller = this.apps.get(action.app);
    if (!controller) return;
    this.logger.info({ app: action.app, container: action.id, change: action.kind }, 'resync: the engine changed a container without an event berth saw');
    if (action.kind === 'exited') this.exited(controller, action.id, action.exitCode, undefined, action.engineError);
    else if (action.kind === 'removed') controller.instanceRemoved(action.id);
    else if (action.kind === 'routeLost') controller.instanceRouteLost(action.id);
    else if (action.kind === 'changed') controller.instanceChanged(action.id);
    else this.started(controller, action.id);
  }

  /**
   * Apps that must always run are restarted: after a short pause, or when a
   * crash loop's backoff allows, so a broken app does not hammer the engine.
   */
  private scheduleRestart(controller: AppController): void {
    if (this.restartTimers.has(controller.name) || this.events.signal.aborted) return;
    const timer = setTimeout(() => {
      this.restartTimers.delete(controller.name);
      if (this.apps.get(controller.name) !== controller || controller.upstream || controller.spec.scale.min < 1 || this.events.signal.aborted) return;
      controller.acquire().catch(() => this.scheduleRestart(controller));
    }, Math.max(500, controller.retryDelayMs()));
    timer.unref();
    this.restartTimers.set(controller.name, timer);
  }
}

function sameBelief(a: BelievedApp, b: BelievedApp): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * A hold, with the way out its request takes when the client goes (`leave`):
 * the place in the wait queue is given back at once. Made only for a request
 * that waits, never on the ready path.
 */
function waitFor(acquire: (left: AbortSignal) => Promise<Admitted>): Admission {
  const leaving = new AbortController();
  return { kind: 'wait', ready: acquire(leaving.signal), leave: () => leaving.abort() };
}
