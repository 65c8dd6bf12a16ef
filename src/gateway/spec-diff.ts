import { canonicalJson } from '../spec/hash.js';

export interface FieldChange {
  /** Dotted path of the field, e.g. `env.GREETING` or `routes`. */
  path: string;
  from?: unknown;
  to?: unknown;
}

/**
 * The fields that differ between two specs, for `apply --dry-run`. Objects are
 * compared key by key; arrays and scalars as a whole, which keeps the diff
 * readable for routes and mounts.
 */
export function diffSpecs(before: unknown, after: unknown, path = ''): FieldChange[] {
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((key) => diffSpecs(before[key], after[key], path ? `${path}.${key}` : key));
  }
  if (canonicalJson(before) === canonicalJson(after)) return [];
  const change: FieldChange = { path: path || '(spec)' };
  if (before !== undefined) change.from = before;
  if (after !== undefined) change.to = after;
  return [change];
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
