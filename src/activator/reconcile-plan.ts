/**
 * The decision half of reconcile: what to do to bring the engine in line with the
 * desired apps, from what is desired and what the engine shows. Pure; the activator's
 * reconcile only carries the actions out, in the order given.
 */

/** One desired app, as reconcile sees it. */
export interface DesiredApp {
  name: string;
  /** containerSpecHash of its spec: a container with another hash is stale. */
  containerHash: string;
  /** scale.min >= 1: started at once and kept running. */
  alwaysOn: boolean;
  /** The activator already runs a controller for it (an update, not an adoption). */
  known: boolean;
}

/** One berth-managed container, as the engine lists it. */
export interface ObservedContainer {
  id: string;
  name: string;
  app: string;
  specHash: string;
  /** Its `berth.store` label; undefined for containers of a berth from before the label. */
  store?: string;
}

/** An app being deleted (a tombstone, or removed from the config). */
export interface RemovedApp {
  name: string;
  purgeVolumes: boolean;
}

export type ReconcileAction =
  /** Stop and drop the controller of a deleted app. */
  | { kind: 'stop'; app: string }
  /** Remove one container: of a deleted app, stale (an older spec), or an orphan of this store. */
  | { kind: 'remove'; app: string; id: string; name: string; purgeVolumes: boolean; why: 'deleted' | 'stale' | 'orphan' }
  /** Hand the new spec to the running controller. */
  | { kind: 'update'; app: string }
  /** Make a controller for the app with these containers (matching the spec). */
  | { kind: 'adopt'; app: string; ids: string[] }
  /** Create the app's first container now, so its first start is faster and name conflicts show early. */
  | { kind: 'create'; app: string }
  /** Start the app (scale.min >= 1). */
  | { kind: 'start'; app: string }
  /** A container berth must not touch: another store's (silently), or an older berth's unlabelled one (logged). */
  | { kind: 'leave'; app: string; id: string; name: string; why: 'other-store' | 'unlabelled' };

export interface PlanInput {
  desired: readonly DesiredApp[];
  observed: readonly ObservedContainer[];
  removed: readonly RemovedApp[];
  /** This gateway's store id. */
  storeId?: string;
}

/**
 * Actions in order: deletions first (their containers go before anything new is
 * made), then each desired app's actions in sequence, then orphans. The shell may
 * run the different desired apps' sequences in parallel.
 *
 * - Containers of another store id are never touched, whatever their app.
 * - Unlabelled containers (an older berth's) count as this store's for desired and
 *   deleted apps (so an upgrade adopts them), and are left alone (logged) otherwise.
 * - A container of this store whose app is neither desired nor deleted is an orphan
 *   (say, a delete interrupted before the tombstone existed): it is removed, its
 *   volume kept.
 * - An app both desired and removed is treated as desired.
 */
export function planReconcile(input: PlanInput): ReconcileAction[] {
  const { storeId } = input;
  const desiredNames = new Set(input.desired.map((d) => d.name));
  const removed = input.removed.filter((r) => !desiredNames.has(r.name));
  const removedNames = new Set(removed.map((r) => r.name));
  const isOther = (c: ObservedContainer) => storeId !== undefined && c.store !== undefined && c.store !== storeId;
  const actions: ReconcileAction[] = [];
  const leave = (c: ObservedContainer, why: 'other-store' | 'unlabelled') => actions.push({ kind: 'leave', app: c.app, id: c.id, name: c.name, why });

  for (const r of removed) {
    actions.push({ kind: 'stop', app: r.name });
    for (const c of input.observed.filter((o) => o.app === r.name && !isOther(o))) {
      actions.push({ kind: 'remove', app: r.name, id: c.id, name: c.name, purgeVolumes: r.purgeVolumes, why: 'deleted' });
    }
  }
  for (const d of input.desired) {
    if (d.known) {
      actions.push({ kind: 'update', app: d.name });
    } else {
      const mine = input.observed.filter((o) => o.app === d.name && !isOther(o));
      for (const stale of mine.filter((c) => c.specHash !== d.containerHash)) {
        actions.push({ kind: 'remove', app: d.name, id: stale.id, name: stale.name, purgeVolumes: false, why: 'stale' });
      }
      const matching = mine.filter((c) => c.specHash === d.containerHash);
      actions.push({ kind: 'adopt', app: d.name, ids: matching.map((c) => c.id) });
      if (matching.length === 0) actions.push({ kind: 'create', app: d.name });
    }
    if (d.alwaysOn) actions.push({ kind: 'start', app: d.name });
  }
  for (const c of input.observed) {
    if (desiredNames.has(c.app) || removedNames.has(c.app)) {
      if (isOther(c)) leave(c, 'other-store');
      continue;
    }
    if (isOther(c)) leave(c, 'other-store');
    else if (c.store === undefined || storeId === undefined) leave(c, 'unlabelled');
    else actions.push({ kind: 'remove', app: c.app, id: c.id, name: c.name, purgeVolumes: false, why: 'orphan' });
  }
  return actions;
}
