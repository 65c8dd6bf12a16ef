import { BadRequestError } from '../errors.js';
import { safeDecode } from './request-target.js';
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

/**
 * Matches a method and path against the route table; `{param}` matches one segment.
 * lookup throws BadRequestError for a parameter that cannot be percent-decoded.
 */
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
      for (const [i, name] of route.names.entries()) {
        const value = safeDecode(m[i + 1]!);
        // A malformed escape or invalid UTF-8 names nothing: refuse it rather than guess.
        if (value === undefined) throw new BadRequestError(`the path segment for {${name}} is not valid percent-encoded UTF-8`);
        params[name] = value;
      }
      return { kind: 'found', def: route.def, params };
    }
    return allowed.length > 0 ? { kind: 'method_not_allowed', allowed } : { kind: 'not_found' };
  }
}
