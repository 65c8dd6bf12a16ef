import { describe, isYamlTagged } from './messages.js';
import type { PathSegment } from './path.js';

/** Where a value is not JSON, and what it is instead. */
export interface NotJson {
  path: PathSegment[];
  message: string;
}

/**
 * The first place in `value` that JSON cannot carry as it is, or undefined when all of it can.
 * A spec written in YAML can hold more than JSON: `!!set` and `!!omap` became a Set or a Map,
 * which JSON.stringify writes as `{}` (the data gone without a word), `!!binary` a byte array
 * written as `{"type":"Buffer","data":[…]}`, `!!timestamp` a Date moved to UTC, and `.nan` or
 * `.inf` a number written as `null`. Each is refused naming its place (in the words other
 * fields use for them, messages.ts), so the app is given what its author wrote or nothing.
 * Pure; nesting is bounded by the reader before (nesting-depth.ts).
 */
export function notJson(value: unknown, path: PathSegment[] = []): NotJson | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : { path, message: `is ${describe(value)}, which JSON has no form for: write a number or a string` };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = notJson(value[i], [...path, i]);
      if (found) return found;
    }
    return undefined;
  }
  if (isYamlTagged(value)) return { path, message: `is ${describe(value)}, which JSON cannot carry as it is` };
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) return { path, message: 'is not a plain mapping, which JSON cannot carry as it is' };
    for (const [key, item] of Object.entries(value)) {
      const found = notJson(item, [...path, key]);
      if (found) return found;
    }
    return undefined;
  }
  return { path, message: `is a ${typeof value}, not a JSON value` };
}
