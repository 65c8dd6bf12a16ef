import type { RouteDef } from './route-def.js';

interface CompiledRoute {
  def: RouteDef;
  pattern: RegExp;
  names: string[];
}

export type RouteLookup =
  | { kind: 'found'; def: RouteDef; params: Record<string, string> }
  | { kind: 'method_not_allowed'; allowed: string[] }
  | { kind: 'not_found' };

/** Matches a method and path against the route table; `{param}` matches one segment. */
export class Router {
  private readonly routes: CompiledRoute[];

  constructor(defs: readonly RouteDef[]) {
    this.routes = defs.map((def) => {
      const names: string[] = [];
      const source = def.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_m, name: string) => {
        names.push(name);
        return '([^/]+)';
      });
      return { def, names, pattern: new RegExp(`^${source}$`) };
    });
  }

  lookup(method: string, path: string): RouteLookup {
    const allowed: string[] = [];
    for (const route of this.routes) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      if (route.def.method !== method) {
        allowed.push(route.def.method);
        continue;
      }
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1]!)));
      return { kind: 'found', def: route.def, params };
    }
    return allowed.length > 0 ? { kind: 'method_not_allowed', allowed } : { kind: 'not_found' };
  }
}
