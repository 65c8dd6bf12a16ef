/**
 * A change run in the order of the apps it must be ordered with (change-scope.ts), when
 * those can grow while it waits its turn: it checks again at its commit, and asks again.
 */

/** How often a change asks for the order of its apps (more each time they grew while it waited) before it runs alone. */
const REORDER_TRIES = 2;

/** Whether the change holds an app's order: the apps it was asked with, or every app (it runs alone). */
export type Held = (app: string) => boolean;

/** Runs a change in the order of `apps`, or after every change without them (AppServiceDeps.serialize). */
export type Serialize = <T>(change: () => Promise<T>, apps?: readonly string[]) => Promise<T>;

/**
 * Thrown inside a change that found, at its commit, apps it must be ordered with but
 * does not hold (another change made them related while it waited): nothing was
 * stored, and it is asked again with them.
 */
class Reorder extends Error {
  constructor(readonly apps: ReadonlySet<string>) {
    super('the change must be ordered with more apps');
  }
}

/**
 * Runs `change` in the order of the apps `appsNow` names (asked when it is queued). A change
 * that finds at its commit that it must be ordered with more apps (mustHold) is queued again
 * with them; after REORDER_TRIES tries, alone (after every change asked before it).
 */
export async function ordered<T>(serialize: Serialize, appsNow: () => ReadonlySet<string>, change: (held: Held) => Promise<T>): Promise<T> {
  let apps = appsNow();
  for (let tries = 1; tries <= REORDER_TRIES; tries++) {
    const held = apps;
    try {
      return await serialize(() => change((app) => held.has(app)), [...held]);
    } catch (err) {
      if (!(err instanceof Reorder)) throw err;
      apps = new Set([...held, ...err.apps]);
    }
  }
  return serialize(() => change(() => true));
}

/** Called at the commit, before anything is stored: throws (for `ordered` to ask again) when the change must be ordered with apps it does not hold. */
export function mustHold(held: Held, needed: ReadonlySet<string>): void {
  const missing = [...needed].filter((app) => !held(app));
  if (missing.length > 0) throw new Reorder(new Set(missing));
}
