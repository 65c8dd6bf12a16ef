import type { AppSpec } from '../spec/types.js';
import type { StoredApp } from '../store/store.js';

/**
 * The specs the activator runs: each stored spec with the replica count `berth scale`
 * kept (clamped to the spec's scale.min..max, so a spec narrowed since still holds).
 * Pure.
 */
export function desiredSpecs(apps: readonly StoredApp[]): AppSpec[] {
  return apps.map((app) => {
    if (app.replicas === undefined) return app.spec;
    const { min, max } = app.spec.scale;
    const replicas = Math.min(Math.max(app.replicas, Math.max(min, 1)), max);
    return replicas === app.spec.scale.replicas ? app.spec : { ...app.spec, scale: { ...app.spec.scale, replicas } };
  });
}

/**
 * Why a gateway must not start on this store: the file was there but empty (no
 * schema, so no identity), while berth-managed containers exist. The desired state
 * was most likely lost; starting would serve nothing and, once a new identity is
 * made, leave those containers nobody's. Undefined when starting is fine. Pure.
 */
export function emptyStoreRefusal(storePath: string, openedEmpty: boolean, containers: readonly string[], acceptEmpty: boolean): string | undefined {
  if (!openedEmpty || containers.length === 0 || acceptEmpty) return undefined;
  const shown = containers.slice(0, 5).join(', ') + (containers.length > 5 ? ` and ${containers.length - 5} more` : '');
  return (
    `store at ${storePath} exists but is empty (no berth schema), while ${containers.length} berth-managed container(s) exist on the engine (${shown}). ` +
    'If the store was lost, restore it from a backup and start again. To start with no apps anyway, remove those containers ' +
    '(docker rm -f), or run "berth serve --accept-empty-store" (the containers are then left alone).'
  );
}
