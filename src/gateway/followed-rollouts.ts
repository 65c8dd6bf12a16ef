import type { Logger } from 'pino';
import type { AppSpec } from '../spec/types.js';
import { containerSpecHash } from '../spec/hash.js';
import type { Instance } from '../runtime/runtime.js';
import type { AppRevision, Store, StoredApp } from '../store/store.js';

/**
 * What the leader's rollouts made of the stored revisions: the apps whose
 * instances are (or will start) of the stored spec, and the revisions it rolled
 * back (its controller kept the containers of the one before). An app it does
 * not run counts as neither. Pure.
 */
export function rolloutOutcomes(stored: readonly StoredApp[], runningSpec: (app: string) => AppSpec | undefined): { settled: string[]; rolledBack: AppRevision[] } {
  const settled: string[] = [];
  const rolledBack: AppRevision[] = [];
  for (const app of stored) {
    const running = runningSpec(app.name);
    if (!running) continue;
    if (containerSpecHash(running) === containerSpecHash(app.spec)) settled.push(app.name);
    else rolledBack.push({ name: app.name, revision: app.revision });
  }
  return { settled, rolledBack };
}

/**
 * Several gateways: an update applied at a gateway that does not lead, or left by
 * a leader killed mid-rollout, is rolled out by the leader, and its row stays
 * unsettled until then (app-service.ts). The leader, after following the apps,
 * settles what it runs, and puts back the row an update replaced when it rolled
 * that revision back: the store kept revision 2 while revision 1 served, every
 * gateway routed and showed revision 2, and each later leader rolled it out and
 * back again. Returns the apps put back (to be read again and announced).
 */
export async function settleFollowed(store: Store, stored: readonly StoredApp[], runningSpec: (app: string) => AppSpec | undefined, logger: Logger): Promise<string[]> {
  const { settled, rolledBack } = rolloutOutcomes(stored, runningSpec);
  if (settled.length > 0) await store.settleApps(settled);
  if (rolledBack.length === 0) return [];
  const reverted = await store.revertUnsettled(rolledBack);
  if (reverted.length > 0) logger.warn({ apps: reverted }, 'updates applied at another gateway were rolled back here; the previous revisions stand in the store');
  return reverted;
}

/**
 * Several gateways, at start: the apps of the first reconcile, and those whose update it leaves to a
 * rollout after it. An unsettled update (a gateway killed mid-rollout, this one or another) whose
 * replaced revision still runs starts from that revision: its containers are adopted, and the update
 * is then rolled out from them, rolled back if it never gets ready. Handed the new spec at once, a
 * gateway leading alone found those containers stale and replaced them: a bad revision took the app
 * down, the old one gone. (Unlike SQLite's, such rows are not reverted: the update may be another
 * gateway's, applied and answered, and under way.) Pure.
 */
export function startingRevisions(desired: readonly StoredApp[], replaced: readonly StoredApp[], instances: readonly Instance[]): { apps: StoredApp[]; rollOut: string[] } {
  const runs = new Set(instances.filter((i) => i.state === 'running').map((i) => `${i.app}\n${i.specHash}`));
  const before = new Map(replaced.filter((r) => runs.has(`${r.name}\n${containerSpecHash(r.spec)}`)).map((r) => [r.name, r]));
  const apps = desired.map((app) => before.get(app.name) ?? app);
  return { apps, rollOut: desired.filter((app) => before.has(app.name)).map((app) => app.name) };
}
