import type { Readable } from 'node:stream';
import type { Activator } from '../activator/activator.js';
import type { AppStatus } from '../activator/app-status.js';
import type { GatewayConfig } from '../config/config.js';
import { ownHistoryQuery } from './app-history.js';
import { openReplicaLogs } from './replica-logs.js';
import { BadRequestError, BerthError, ConflictError, messageOf, NotFoundError, SpecError, StoreError, StoreUnavailableError } from '../errors.js';
import type { Instance, Runtime } from '../runtime/runtime.js';
import { containerSpecHash, specHash } from '../spec/hash.js';
import { DNS_LABEL } from '../spec/fields.js';
import { gatewayClaims, validateAppSet } from '../spec/index.js';
import { formatPath } from '../spec/path.js';
import type { AppSpec } from '../spec/types.js';
import type { HistoryPage, HistoryQuery, PutResult, Store, StoredApp } from '../store/store.js';
import { DesiredIndex } from './desired-index.js';
import { resolveImagePorts } from './image-ports.js';
import { diffAppSpecs, type FieldChange } from './spec-diff.js';
import type { StateEvents } from './state-events.js';
import { replicaRangeProblem } from '../activator/replica-range.js';
import { NoInstanceError } from '../activator/start-errors.js';
import { appsOfApply, appsOfDelete } from './change-scope.js';
import { mustHold, ordered, type Held, type Serialize } from './ordered-change.js';

export interface ApplyResult {
  name: string;
  action: 'created' | 'updated' | 'unchanged';
  revision: number;
  changes: FieldChange[];
  /** Why the change did not take effect on the running app, e.g. a new revision that was rolled back; absent when it did. */
  error?: string;
}

/** An update rolled back at apply: the row it replaced, the revision it would have been, and why. */
interface RolledBack {
  before: StoredApp;
  revision: number;
  reason: string;
}

export interface AppDetails {
  app: StoredApp;
  status?: AppStatus;
  instances: Instance[];
  /** Why `instances` could not be read (the engine is unavailable); the desired and known state still shows. */
  instancesError?: string;
}

/** A page of the app list: the apps, and the cursor of the next page when there is one. */
export interface AppPage {
  items: AppDetails[];
  next?: string;
}

/** The opaque cursor of the page after `name`; the closing ";" makes a cursor cut short one no page gave out. */
export function encodeAppCursor(name: string): string {
  return Buffer.from(`app:${name};`).toString('base64url');
}

/**
 * The name a cursor continues after; a BadRequestError (400) for one no page gave out.
 * Node's base64url decoder drops what it cannot use (a character too many, bits past the
 * last byte), so a cursor cut or edited by hand decoded to some other name and paged on
 * from there: only a cursor that encodes back to itself, naming an app name, is taken.
 */
export function decodeAppCursor(cursor: string): string {
  const text = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString() : '';
  const name = /^app:(.*);$/s.exec(text)?.[1] ?? '';
  if (!DNS_LABEL.test(name) || encodeAppCursor(name) !== cursor) {
    throw new BadRequestError(`query parameter cursor: "${cursor.slice(0, 100)}" is not a cursor of this list; use the next value of a previous page, or leave it out for the first page`);
  }
  return name;
}

/** How long the app list waits for the engine's list of instances before answering without them. */
export const LIST_ENGINE_WAIT_MS = 3_000;

function withinMs<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the Docker engine did not list the containers within ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** What the service needs from the running gateway. */
export interface AppServiceDeps {
  store: Store;
  runtime: Runtime;
  activator: Activator;
  events: StateEvents;
  config: () => GatewayConfig;
  /**
   * Runs a change of desired state in its order: with `apps`, after every earlier change of any
   * of them (and every reload), beside changes of other apps; without, after every change.
   */
  serialize: Serialize;
  /**
   * Runs the short section that checks a change against the desired state and stores it, when no
   * other such section runs (changes of other apps run beside this one). Default: at once.
   */
  commit?: <T>(section: () => Promise<T>) => Promise<T>;
  /**
   * Rebuilds routes and reconciles after desired state changed. With `changed`, only
   * those apps (and `removed`) changed: only they are read back and reconciled.
   */
  desiredChanged: (removed: string[], options?: { purgeVolumes?: boolean }, changed?: readonly string[]) => Promise<void>;
  /** The desired apps as last stored, indexed for validating a change against them; read from the store at each change when absent. */
  desired?: DesiredIndex;
  /** Tells the other gateways on a shared store that these apps changed in it (a change that goes through no desiredChanged). */
  announce?: (apps: readonly string[]) => void;
  /**
   * Several gateways: whether this gateway rolls updates out (it leads). One that does not leaves an
   * update's row unsettled: the leader settles it once rolled out, or puts the replaced row back when
   * it rolls the revision back (followed-rollouts.ts). Absent: always.
   */
  acts?: () => boolean;
  /** An app's state as the API shows it (several gateways: as the leader sees it); default the activator's. */
  viewStatus?: (name: string) => AppStatus | undefined;
}

/**
 * The operations on apps that the admin API offers: the one place where the
 * API changes desired state, so it is validated, stored, routed and reconciled
 * the same way every time.
 */
export class AppService {
  constructor(private readonly deps: AppServiceDeps) {}

  private viewStatus(name: string): AppStatus | undefined {
    return this.deps.viewStatus ? this.deps.viewStatus(name) : this.deps.activator.status(name);
  }

  async list(): Promise<AppDetails[]> {
    const [apps, live] = await Promise.all([this.deps.store.listApps(), this.liveInstances()]);
    return apps.map((app) => ({ app, status: this.viewStatus(app.name), instances: live.instances.filter((i) => i.app === app.name), ...live.error }));
  }

  /**
   * One page of the app list, by name: at most `limit` apps after the `cursor` of the
   * previous page, with `next` when more follow. The engine is asked once for the
   * page, and the cost does not grow with the apps before it.
   */
  async page(options: { limit: number; cursor?: string }): Promise<AppPage> {
    const after = options.cursor === undefined ? undefined : decodeAppCursor(options.cursor);
    const rows = await this.deps.store.listAppsPage(after, options.limit + 1);
    const apps = rows.slice(0, options.limit);
    // Only this page's containers are inspected: the cost follows the page, not the fleet.
    const live = await this.liveInstances({ apps: apps.map((a) => a.name) });
    const byApp = new Map<string, Instance[]>();
    for (const i of live.instances) {
      const list = byApp.get(i.app);
      if (list) list.push(i);
      else byApp.set(i.app, [i]);
    }
    const items = apps.map((app) => ({ app, status: this.viewStatus(app.name), instances: byApp.get(app.name) ?? [], ...live.error }));
    return rows.length > options.limit ? { items, next: encodeAppCursor(apps.at(-1)!.name) } : { items };
  }

  async get(name: string): Promise<AppDetails> {
    const app = await this.deps.store.getApp(name);
    if (!app) throw new NotFoundError(`no app named ${name}`);
    const live = await this.liveInstances({ app: name });
    return { app, status: this.viewStatus(name), instances: live.instances, ...live.error };
  }

  /**
   * The engine's containers, or none with the reason when the engine is unavailable or
   * slow: the list is what operators and the dashboard look at when things go wrong, so
   * an engine outage must not take it down or hold it for timeouts.engine.
   */
  private async liveInstances(filter?: { app?: string; apps?: readonly string[] }): Promise<{ instances: Instance[]; error?: { instancesError: string } }> {
    try {
      return { instances: await withinMs(this.deps.runtime.list(filter), LIST_ENGINE_WAIT_MS) };
    } catch (err) {
      return { instances: [], error: { instancesError: messageOf(err) } };
    }
  }

  /**
   * Creates or updates apps from specs. The whole set, with every other app,
   * is validated first (names, routes, dependsOn, input size, policy): the specs
   * with the stored apps they can conflict with (DesiredIndex.related), so the cost
   * does not grow with the apps already stored. Then either all are stored or none.
   * The same spec twice is reported unchanged and changes nothing.
   */
  apply(given: AppSpec[], options: { dryRun?: boolean } = {}): Promise<ApplyResult[]> {
    return ordered(
      this.deps.serialize,
      () => appsOfApply(given, this.deps.desired, this.replaced),
      (held) => this.applyInOrder(given, options, held),
    );
  }

  /**
   * The specs' stored rows by name, once the specs are found valid with every other app
   * they can clash with; throws the problems otherwise. No engine call but specIssues (local).
   */
  private async checkApply(given: readonly AppSpec[]): Promise<Map<string, StoredApp>> {
    const byName = new Map<string, StoredApp>();
    for (const spec of given) {
      const stored = await this.deps.store.getApp(spec.name);
      if (stored) byName.set(spec.name, stored);
    }
    for (const spec of given) {
      if (byName.get(spec.name)?.source === 'config') {
        throw new ConflictError(`app ${spec.name} is declared in the gateway's config file; change it there`);
      }
    }
    const incoming = new Set(given.map((s) => s.name));
    const config = this.deps.config();
    const { policy, limits } = config;
    // The stored apps this change can conflict with (a route, dependsOn): the rest of the set is valid and untouched.
    const others = (await this.desiredIndex()).related(given);
    // Problems are located in the request body (by document when it holds several), or at the stored app they clash with.
    const origins = [...others.map((a) => `stored app "${a.name}"`), ...given.map((_, i) => (given.length > 1 ? `request body, document ${i + 1}` : 'request body'))];
    validateAppSet([...others, ...given], policy, limits, gatewayClaims(config), incoming, origins);
    // What the runtime can never run (Swarm: privileged, input.as file) is refused now, at its field,
    // rather than stored to fail at every wake (the apply answered 'created' and the app showed failed).
    const unsupported = given.flatMap((spec, i) => (this.deps.runtime.specIssues?.(spec) ?? []).map((issue) => ({ path: `${origins[others.length + i]}: ${formatPath(issue.path)}`, message: issue.message })));
    if (unsupported.length > 0) throw new SpecError(unsupported);
    return byName;
  }

  private async applyInOrder(given: AppSpec[], options: { dryRun?: boolean }, held: Held): Promise<ApplyResult[]> {
    const byName = await this.checkApply(given);
    // Only a spec the policy allows reaches the engine, even to read its image: a denied image was inspected
    // for its EXPOSEd port first, and the answer told whether it was on the host.
    // A spec without a port takes its image's one EXPOSEd port, or is refused (422) asking for one.
    const specs = await resolveImagePorts(given, this.deps.runtime);
    const results: ApplyResult[] = specs.map((spec) => {
      const before = byName.get(spec.name);
      if (!before) return { name: spec.name, action: 'created', revision: 1, changes: diffAppSpecs(undefined, spec) };
      const same = before.specHash === specHash(spec);
      return { name: spec.name, action: same ? 'unchanged' : 'updated', revision: same ? before.revision : before.revision + 1, changes: same ? [] : diffAppSpecs(before.spec, spec) };
    });
    if (options.dryRun) return results;
    if (results.every((r) => r.action === 'unchanged')) {
      // The same specs again keep what an earlier apply rolled out but could not settle (notKeptError
      // says to apply again): answered 'unchanged' without it, a restart still went back.
      if (this.deps.acts?.() !== false) await this.deps.store.settleApps(specs.filter((spec) => this.runsStored(spec)).map((s) => s.name));
      return results;
    }
    // The engine must answer before anything is stored: a change it cannot carry out is refused (503) whole.
    await this.deps.runtime.ping();
    const touched = results.filter((r) => r.action !== 'unchanged').map((r) => r.name);
    const stored = await this.commit(async () => {
      // Checked again as the desired state is now: changes of other apps may have been stored while the engine answered.
      mustHold(held, appsOfApply(given, this.deps.desired, this.replaced));
      await this.checkApply(given);
      const stored = await this.deps.store.applyApps(specs, 'api');
      // In the index at once, in this section: the next change of another app is checked against it.
      for (const put of stored) this.deps.desired?.set(put.app.spec, put.app.replicas);
      // Until this change is done, what it replaced may come back (an undo): changes of other apps are checked against that too.
      for (const name of touched) {
        const was = byName.get(name);
        if (was) this.replaced.set(name, was.spec);
      }
      return stored;
    });
    try {
      return await this.rollOut(specs, results, stored, byName, touched);
    } finally {
      for (const name of touched) this.replaced.delete(name);
    }
  }

  /** The stored apply carried out: reconciled, reported, settled, or undone. */
  private async rollOut(specs: AppSpec[], results: ApplyResult[], stored: PutResult[], byName: ReadonlyMap<string, StoredApp>, touched: string[]): Promise<ApplyResult[]> {
    try {
      await this.deps.desiredChanged([], {}, touched);
    } catch (err) {
      // The engine went away after the ping (or the store failed): the apply is refused, so it must change nothing.
      // The caller hears the first failure; an undo that fails too leaves updates unsettled, reverted at the next start.
      await this.undoStored(touched, byName).catch(() => undefined);
      throw err;
    }
    const rolledBack: RolledBack[] = [];
    for (const [i, put] of stored.entries()) {
      const result = results[i]!;
      result.revision = put.app.revision;
      if (result.action === 'unchanged') continue;
      const error = this.deps.activator.lastErrors.get(put.app.name);
      const before = byName.get(put.app.name);
      const running = this.deps.activator.controller(put.app.name);
      // The controller keeps the containers of the revision that works when a new one
      // was rolled back, now or at an earlier apply of the same containers.
      if (result.action === 'updated' && before && running && containerSpecHash(running.spec) !== containerSpecHash(specs[i]!)) {
        rolledBack.push({ before, revision: put.app.revision, reason: error ?? running.status().lastError ?? 'this revision was rolled back before' });
        continue;
      }
      if (error !== undefined) result.error = error;
      this.deps.events.publish({ type: 'applied', app: put.app.name, time: new Date(), revision: put.app.revision, action: result.action });
    }
    const failed = new Set(rolledBack.map((r) => r.before.name));
    // Not leading, an update is the leader's to roll out: this gateway cannot know yet whether it lands.
    const leftToLeader = this.deps.acts?.() === false ? new Set(results.filter((r) => r.action === 'updated').map((r) => r.name)) : new Set<string>();
    const settled = specs.map((s) => s.name).filter((name) => !failed.has(name) && !leftToLeader.has(name));
    try {
      await this.deps.store.settleApps(settled);
    } catch (err) {
      // The rollout happened: the apply is not undone (the undo would write the same store), and
      // the answer says what runs and that it is not kept, rather than that nothing changed.
      throw notKeptError(results.filter((r) => r.action !== 'unchanged' && settled.includes(r.name)), err);
    }
    if (rolledBack.length > 0) await this.undoRolledBack(rolledBack, results);
    return results;
  }

  /** Whether the app runs the containers of `spec`, or runs none (nothing to roll back): its row can be settled. */
  private runsStored(spec: AppSpec): boolean {
    const running = this.deps.activator.controller(spec.name);
    return !running || containerSpecHash(running.spec) === containerSpecHash(spec);
  }

  /**
   * An update that was rolled back is never the desired state: the app's previous
   * row is put back (so a gateway restart keeps the revision that works), the
   * running app gets its previous settings again, and the apply fails with the
   * reason. The other apps of the set stay applied; the message names them.
   */
  private async undoRolledBack(rolledBack: readonly RolledBack[], results: readonly ApplyResult[]): Promise<never> {
    await this.commit(async () => {
      for (const r of rolledBack) await this.restore(r.before);
    });
    await this.deps.desiredChanged([], {}, rolledBack.map((r) => r.before.name));
    const names = new Set(rolledBack.map((r) => r.before.name));
    const applied = results.filter((r) => !names.has(r.name) && r.action !== 'unchanged').map((r) => `${r.name} ${r.action}`);
    const lines = rolledBack.map((r) => `${r.before.name}: revision ${r.revision} was rolled back, revision ${r.before.revision} keeps serving: ${r.reason.replace(/^update rolled back: /, '')}`);
    throw new BerthError('upstream_unavailable', `${lines.join('; ')}${applied.length > 0 ? ` (applied: ${applied.join(', ')})` : ''}. Change the spec (e.g. a fixed image) and apply again.`);
  }

  /**
   * Puts back the desired state an apply stored but could not carry out: the rows
   * updates replaced, and a tombstone for each app it created (it never had a
   * container, or the next reconcile removes it). Then the routes follow the store
   * again; their reconcile may fail as well, and is done at the next one.
   */
  private async undoStored(names: readonly string[], before: ReadonlyMap<string, StoredApp>): Promise<void> {
    await this.commit(async () => {
      for (const name of names) {
        const previous = before.get(name);
        if (previous) await this.restore(previous);
        else await this.deps.store.deleteApp(name);
      }
    });
    await this.deps.desiredChanged([], {}, names).catch(() => undefined);
  }

  private async desiredIndex(): Promise<DesiredIndex> {
    if (this.deps.desired) return this.deps.desired;
    const index = new DesiredIndex();
    index.reset(await this.deps.store.listApps());
    return index;
  }

  /** Deletes an app: its container goes, its volume stays unless purged. */
  delete(name: string, options: { purgeVolumes?: boolean } = {}): Promise<void> {
    return ordered(
      this.deps.serialize,
      () => appsOfDelete(name, this.replaced),
      (held) => this.deleteInOrder(name, options, held),
    );
  }

  private async deleteInOrder(name: string, options: { purgeVolumes?: boolean }, held: Held): Promise<void> {
    const check = async (): Promise<StoredApp> => {
      const app = await this.deps.store.getApp(name);
      if (!app) throw new NotFoundError(`no app named ${name}`);
      if (app.source === 'config') throw new ConflictError(`app ${name} is declared in the gateway's config file; remove it there`);
      const dependents = (await this.desiredIndex()).dependentsOf(name);
      if (dependents.length > 0) {
        throw new ConflictError(`app ${name} is in the dependsOn of ${dependents.join(', ')}; change or delete ${dependents.length > 1 ? 'those apps' : 'that app'} first`);
      }
      return app;
    };
    await check();
    // The engine must answer first: a delete refused for want of it must leave the app as it was.
    await this.deps.runtime.ping();
    const app = await this.commit(async () => {
      mustHold(held, appsOfDelete(name, this.replaced));
      // Checked again as the desired state is now: an app that depends on it may have been stored while the engine answered.
      const app = await check();
      // A tombstone until the containers are gone: a gateway killed now finishes the delete at its next start.
      await this.deps.store.deleteApp(name, { ...options, refuseDependents: true });
      // Until the delete is done, the app may come back (below): changes of other apps are checked against it too.
      this.replaced.set(name, app.spec);
      return app;
    });
    try {
      await this.deps.desiredChanged([name], options, []);
    } catch (err) {
      // The engine went away after the ping: the delete is refused, so the app is put back as it was.
      await this.commit(() => this.restore(app))
        .then(() => this.deps.desiredChanged([], {}, [name]).catch(() => undefined))
        .catch(() => undefined);
      throw err;
    } finally {
      this.replaced.delete(name);
    }
  }

  /**
   * Apps with an API change under way, each with its spec before that change: what comes back
   * if the change is undone. An apply or delete of another app that would clash with it waits.
   */
  private readonly replaced = new Map<string, AppSpec>();

  private commit<T>(section: () => Promise<T>): Promise<T> {
    return this.deps.commit ? this.deps.commit(section) : section();
  }

  /** Puts a row back, and into the index at once (see apply). */
  private async restore(app: StoredApp): Promise<void> {
    await this.deps.store.restoreApp(app);
    this.deps.desired?.set(app.spec, app.replicas);
  }

  /** Starts the app and resolves once it is ready (or its start failed). */
  async start(name: string): Promise<AppStatus> {
    const controller = await this.controller(name);
    await this.started(name, controller);
    return controller.status();
  }

  /**
   * `controller.acquire()` for a caller that wants the app started, not an instance to send a
   * request to. A stop, restart or delete queued behind the start (the API's, at once) takes the
   * ready instance away before acquire looks, which then said 503 "no healthy instance right now"
   * (retry in 1 s) to a start that had run (found by test/unit/api-fuzz.test.ts): the state
   * afterwards says what came after it, and a delete is a 404. Running with no instance in
   * rotation (all unhealthy) is still the 503 it was.
   */
  private async started(name: string, controller: Awaited<ReturnType<AppService['controller']>>): Promise<void> {
    try {
      await controller.acquire();
    } catch (err) {
      // Deleted meanwhile, whether before the start was ready or after: the app is not there (a 502 "failed to
      // start: app was deleted" read as the app's failure, or the gateway's).
      if (this.deps.activator.controller(name) !== controller) throw new NotFoundError(`app ${name} was deleted while it was being started`);
      if (!(err instanceof NoInstanceError)) throw err;
      if (controller.status().state === 'running') throw err;
    }
  }

  async stop(name: string): Promise<AppStatus> {
    const controller = await this.controller(name);
    await controller.stop('stopped through the API');
    return controller.status();
  }

  async restart(name: string): Promise<AppStatus> {
    const controller = await this.controller(name);
    await controller.stop('restarted through the API', undefined, true);
    await this.started(name, controller);
    return controller.status();
  }

  /** Sets the app's replica count (within scale.min..max) and resolves once instances were added or drained. */
  async scale(name: string, replicas: number): Promise<AppStatus> {
    const controller = await this.controller(name);
    const outOfRange = replicaRangeProblem(name, replicas, controller.spec.scale);
    if (outOfRange) throw new BerthError('spec_invalid', outOfRange);
    // Kept in the store first, so the count survives a gateway restart (until the spec itself changes).
    // Queued behind a delete (and perhaps the app created again), the scale was meant for an app that is gone:
    // it must neither land on the new app's row nor be answered as done.
    const kept = await this.deps.serialize(async () => this.deps.activator.controller(name) === controller && (await this.deps.store.setReplicas(name, replicas)), [name]);
    if (!kept) throw new NotFoundError(`app ${name} was deleted while it was being scaled; nothing was changed`);
    // The other gateways read the count back now: each cold-starts the app itself and may lead next, and
    // one left with the old count started that many instances (the spec did not change, so nothing else tells them).
    this.deps.desired?.replicas.set(name, replicas);
    this.deps.announce?.([name]);
    await controller.setReplicas(replicas);
    return controller.status();
  }

  /**
   * The app's container output. With several containers (scale > 1, or one kept
   * beside a new one) every one's lines, each prefixed with its container's name as
   * `docker compose logs` does; `tail` counts per container. One container: its
   * output as it is.
   */
  async logs(name: string, options: { tail?: number; follow?: boolean; signal?: AbortSignal }): Promise<Readable> {
    const details = await this.get(name);
    const instances = [...details.instances].sort((a, b) => a.index - b.index || a.name.localeCompare(b.name));
    if (instances.length === 0) throw new NotFoundError(`app ${name} has no container yet; it gets one on its first request`);
    if (instances.length === 1) return this.deps.runtime.logs(instances[0]!.id, options);
    // One that cannot be read (removed meanwhile), or that breaks while the others open, fails the answer.
    return openReplicaLogs(instances.map((i) => ({ name: i.name, open: () => this.deps.runtime.logs(i.id, options) })));
  }

  async history(query: HistoryQuery): Promise<HistoryPage> {
    const app = await this.deps.store.getApp(query.app);
    if (!app) throw new NotFoundError(`no app named ${query.app}`);
    return this.deps.store.queryRequests(ownHistoryQuery(query, app.createdAt));
  }

  private async controller(name: string) {
    const controller = this.deps.activator.controller(name);
    if (!controller) {
      if (await this.deps.store.getApp(name)) throw new ConflictError(`app ${name} is not reconciled yet; try again`);
      throw new NotFoundError(`no app named ${name}`);
    }
    return controller;
  }
}

/**
 * The answer to an apply rolled out whose settling the store refused (a full disk): the new
 * revisions run, but their rows stay unsettled, so a restart goes back to the revisions before
 * (and removes the apps it created). Answered as a plain store failure, the caller believed
 * nothing had changed while the new revision served. 503 when the store's trouble passes. Pure.
 */
export function notKeptError(live: readonly Pick<ApplyResult, 'name' | 'action' | 'revision'>[], err: unknown): BerthError {
  const apps = live.map((r) => `${r.name} revision ${r.revision}${r.action === 'created' ? ' (created)' : ''}`).join(', ');
  const message =
    `${apps} ${live.length === 1 ? 'runs but is' : 'run but are'} not kept: ${messageOf(err)}. ` +
    'Until it is kept, a restart of berth goes back to the revision before (an app the apply created is removed); ' +
    'once the store is fixed, apply the same spec again to keep it';
  const unavailable = err instanceof BerthError && err.code === 'store_unavailable';
  return unavailable ? new StoreUnavailableError(message, { cause: err }) : new StoreError(message, { cause: err });
}
