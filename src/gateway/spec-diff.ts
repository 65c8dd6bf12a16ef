import { changedSecretKeys, REDACTED, redactSpec } from '../spec/env-value.js';
import { canonicalJson } from '../spec/hash.js';
import type { AppSpec } from '../spec/types.js';

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

/**
 * The changes between two app specs as the API may show them: secret literals
 * redacted on both sides. A secret that changed still shows, as
 * `env.KEY.secret: <redacted> → <redacted>`, so an update is never unexplained.
 */
export function diffAppSpecs(before: AppSpec | undefined, after: AppSpec): FieldChange[] {
  const changes = diffSpecs(before && redactSpec(before), redactSpec(after));
  const hidden = changedSecretKeys(before?.env, after.env).map((key) => ({ path: `env.${key}.secret`, from: REDACTED, to: REDACTED }));
  if (hidden.length === 0) return changes;
  return [...changes, ...hidden].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
