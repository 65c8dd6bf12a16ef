/**
 * The decision half of the periodic resync: what each controller must be told so
 * its belief matches the engine's list, when the engine's events about a change
 * were lost (the event stream reconnects after an engine restart; what happened in
 * the gap is never sent). Pure; the activator carries the actions out through the
 * same controller methods its event loop calls, so a change is handled alike
 * however it was noticed.
 */
import { isDown, type AppState } from './app-status.js';
import type { Instance, InstanceState } from '../runtime/runtime.js';
import { routeLost } from './published-route.js';

/** What one controller believes about its containers (AppController.believed()). */
export interface BelievedApp {
  name: string;
  state: AppState;
  /** containerSpecHash of the app's spec: only a container of it is adopted. */
  containerHash: string;
  /** Instances in rotation or draining. `busy`: berth is acting on it (draining it, or restarting it in place). */
  slots: readonly { id: string; busy: boolean; address?: Instance['address'] }[];
  /** Containers kept for the next start (stopped or paused), or exited replicas. */
  parked: readonly { id: string; state: InstanceState }[];
}

/** One berth-managed container, as the engine lists it. */
export type ObservedInstance = Pick<Instance, 'id' | 'app' | 'specHash' | 'state' | 'exitCode' | 'store' | 'address' | 'outdated' | 'engineError'>;

export type ResyncAction =
  /** A container berth serves from is no longer running (controller.instanceExited). */
  | { kind: 'exited'; app: string; id: string; exitCode?: number; engineError?: string }
  /** A container berth knows is gone from the engine (controller.instanceRemoved). */
  | { kind: 'removed'; app: string; id: string }
  /** A container of a down app runs, and berth did not start it (controller.instanceStarted). */
  | { kind: 'started'; app: string; id: string }
  /** A container berth serves from runs, but not where berth dials it (published-route.ts; controller.instanceRouteLost). */
  | { kind: 'routeLost'; app: string; id: string }
  /** A container berth serves from runs, but no longer as berth made it: edited behind its back (controller.instanceChanged). */
  | { kind: 'changed'; app: string; id: string };

export interface ResyncInput {
  believed: readonly BelievedApp[];
  observed: readonly ObservedInstance[];
  /** This gateway's store id: a container labelled with another store's is never adopted. */
  storeId?: string;
}

/** Engine states in which a container serves nothing. */
const NOT_RUNNING: ReadonlySet<InstanceState> = new Set(['created', 'exited', 'dead', 'removing']);

export function planResync({ believed, observed, storeId }: ResyncInput): ResyncAction[] {
  const byId = new Map(observed.map((o) => [o.id, o]));
  return believed.flatMap((app) => planApp(app, byId, observed, storeId));
}

function planApp(app: BelievedApp, byId: ReadonlyMap<string, ObservedInstance>, observed: readonly ObservedInstance[], storeId: string | undefined): ResyncAction[] {
  // Mid-start or mid-stop the controller itself is changing the containers: the step settles them.
  if (app.state === 'starting' || app.state === 'stopping') return [];
  const actions: ResyncAction[] = [];
  const name = app.name;
  const down = isDown(app.state);
  const adoptable = (o: ObservedInstance) => o.state === 'running' && down && o.specHash === app.containerHash;
  for (const slot of app.slots) {
    if (slot.busy) continue;
    const now = byId.get(slot.id);
    // A removed container died first: the controller hears both, as the engine would have said them.
    if (!now) actions.push({ kind: 'exited', app: name, id: slot.id }, { kind: 'removed', app: name, id: slot.id });
    else if (NOT_RUNNING.has(now.state)) actions.push(exitedAction(name, slot.id, now));
    else if (app.state === 'running' && routeLost(slot.address, now)) actions.push({ kind: 'routeLost', app: name, id: slot.id });
    else if (app.state === 'running' && now.outdated) actions.push({ kind: 'changed', app: name, id: slot.id });
  }
  for (const kept of app.parked) {
    const now = byId.get(kept.id);
    if (!now) actions.push({ kind: 'removed', app: name, id: kept.id });
    else if (adoptable(now)) actions.push({ kind: 'started', app: name, id: kept.id });
    // A frozen (or kept unready) container killed behind berth's back: a paused app would go on showing paused.
    else if ((kept.state === 'paused' || kept.state === 'running') && NOT_RUNNING.has(now.state)) actions.push(now.exitCode === undefined ? { kind: 'exited', app: name, id: kept.id } : { kind: 'exited', app: name, id: kept.id, exitCode: now.exitCode });
  }
  const known = new Set([...app.slots.map((s) => s.id), ...app.parked.map((p) => p.id)]);
  for (const o of observed) {
    if (o.app !== name || known.has(o.id) || !adoptable(o)) continue;
    // Another gateway's container is never taken over; an unlabelled one (an older berth's) counts as ours, as in reconcile.
    if (storeId !== undefined && o.store !== undefined && o.store !== storeId) continue;
    actions.push({ kind: 'started', app: name, id: o.id });
  }
  return actions;
}

/** A slot's instance found not running: with its exit code, and the engine's reason when it says why (a Swarm task no node can take). */
function exitedAction(app: string, id: string, now: ObservedInstance): ResyncAction {
  return { kind: 'exited', app, id, ...(now.exitCode === undefined ? {} : { exitCode: now.exitCode }), ...(now.engineError ? { engineError: now.engineError } : {}) };
}
