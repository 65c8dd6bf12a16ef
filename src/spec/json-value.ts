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
 * `.inf` a number written as `null`. Each is refused naming its place, so the app is given what
 * its author wrote or nothing. Pure; nesting is bounded by the reader before (nesting-depth.ts).
 */
export function notJson(value: unknown, path: PathSegment[] = []): NotJson | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : { path, message: `is ${String(value)}, which JSON has no form for: write a number or a string` };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = notJson(value[i], [...path, i]);
      if (found) return found;
    }
    return undefined;
  }
  if (typeof value === 'object') {
    const kind = nonPlainKind(value);
    if (kind) return { path, message: `is ${kind[0]}, which JSON cannot carry as it is: ${kind[1]}` };
    for (const [key, item] of Object.entries(value)) {
      const found = notJson(item, [...path, key]);
      if (found) return found;
    }
    return undefined;
  }
  return { path, message: `is a ${typeof value}, not a JSON value` };
}

/** What a value that is not a plain mapping is, and what to write instead. */
function nonPlainKind(value: object): [string, string] | undefined {
  if (value instanceof Set) return ['a set (YAML !!set)', 'write a list'];
  if (value instanceof Map) return ['an ordered map (YAML !!omap)', 'write a mapping, or a list of mappings where the order matters'];
  if (value instanceof Date) return ['a timestamp (YAML !!timestamp)', 'write it as a quoted string'];
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return ['binary (YAML !!binary)', 'write it as a base64 string'];
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null ? undefined : ['not a plain mapping', 'write a mapping'];
}
