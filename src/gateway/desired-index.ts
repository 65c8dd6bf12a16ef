import { RouteTable } from '../proxy/route-table.js';
import { appRouteKeys } from '../spec/route-collisions.js';
import type { AppSpec } from '../spec/types.js';
import type { StoredApp } from '../store/store.js';

/**
 * The desired apps in memory, by name, with the index an apply is validated
 * against: which app answers each route. Rebuilt whole when the gateway lists
 * the store (start, reload); kept up to date app by app after an apply or a
 * delete, so neither has to read, parse or check every other app.
 */
export class DesiredIndex {
  /** The desired specs by name; what the input URL and the per-app timeouts read. */
  readonly specs = new Map<string, AppSpec>();
  /**
   * The replica count `berth scale` kept in the store, by app (absent: the spec's own). Kept beside
   * the specs because a scale changes no spec: the periodic resync of several gateways compares both.
   */
  readonly replicas = new Map<string, number>();
  /** routeKey (effective host, path) → the app answering it. */
  private readonly owners = new Map<string, string>();

  reset(apps: readonly StoredApp[]): void {
    this.specs.clear();
    this.owners.clear();
    this.replicas.clear();
    for (const app of apps) this.set(app.spec, app.replicas);
  }

  set(spec: AppSpec, replicas?: number): void {
    this.delete(spec.name);
    this.specs.set(spec.name, spec);
    if (replicas !== undefined) this.replicas.set(spec.name, replicas);
    for (const key of appRouteKeys(spec)) if (!this.owners.has(key)) this.owners.set(key, spec.name);
  }

  delete(name: string): void {
    const spec = this.specs.get(name);
    if (!spec) return;
    this.specs.delete(name);
    this.replicas.delete(name);
    for (const key of appRouteKeys(spec)) if (this.owners.get(key) === name) this.owners.delete(key);
  }

  /** The routing table of the desired apps. */
  routeTable(): RouteTable {
    const apps: Array<{ app: string; routes: AppSpec['routes'] }> = [];
    for (const [app, spec] of this.specs) apps.push({ app, routes: spec.routes });
    return new RouteTable(apps);
  }

  /** The apps whose dependsOn names `app`, in name order. */
  dependentsOf(app: string): string[] {
    const found: string[] = [];
    for (const [name, spec] of this.specs) if (spec.dependsOn.includes(app)) found.push(name);
    return found.sort();
  }

  /**
   * The stored apps (not among `incoming`) that validating `incoming` must see, in
   * name order: those answering a route an incoming app claims, and every app the
   * incoming ones (and those) depend on, transitively. A problem of the whole set
   * that an apply can cause involves one of them: a route already taken, a
   * dependency missing, a host port another app on the host network holds, or a
   * dependsOn cycle (every app on a cycle through an incoming app is reachable from
   * it). The rest of the set was valid before and
   * is untouched.
   */
  related(incoming: readonly AppSpec[]): AppSpec[] {
    const names = new Set(incoming.map((s) => s.name));
    const picked = new Set<string>();
    const pending: string[] = [];
    for (const spec of incoming) {
      for (const key of appRouteKeys(spec)) {
        const owner = this.owners.get(key);
        if (owner !== undefined && !names.has(owner)) pending.push(owner);
      }
      // One at a time, not spread as arguments: a dependsOn of 250,000 names (a 1 MiB body) overflowed the stack, a 500.
      for (const dep of spec.dependsOn) pending.push(dep);
      pending.push(...this.onHostPort(spec));
    }
    while (pending.length > 0) {
      const name = pending.pop()!;
      if (names.has(name) || picked.has(name)) continue;
      const spec = this.specs.get(name);
      if (!spec) continue;
      picked.add(name);
      for (const dep of spec.dependsOn) pending.push(dep);
    }
    return [...picked].sort().map((name) => this.specs.get(name)!);
  }

  /**
   * The other apps on the host network at `spec`'s port (host-ports.ts). A scan, but
   * only for an app on the host network, which a policy must allow and few ask for.
   */
  private onHostPort(spec: AppSpec): string[] {
    if (!spec.security.hostNetwork) return [];
    const found: string[] = [];
    for (const [name, other] of this.specs) if (other.security.hostNetwork && other.port === spec.port && name !== spec.name) found.push(name);
    return found;
  }
}
