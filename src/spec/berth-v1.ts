/** Checks one berth/v1 document and normalizes it into an AppSpec. */
import { describe, friendlyError, isYamlTagged } from './messages.js';
import { normalizeApp } from './normalize.js';
import type { Checked, SpecIssue } from './path.js';
import { isRecord } from './record.js';
import { berthAppSchema } from './schema.js';
import type { AppSpec } from './types.js';
import { issuesFromZod } from './zod-issues.js';

export function checkBerthApp(doc: unknown): Checked<AppSpec> {
  const result = berthAppSchema.safeParse(doc, { error: friendlyError });
  if (!result.success) return { ok: false, issues: withTaggedEnvValues(issuesFromZod(result.error, berthAppSchema), doc) };
  return { ok: true, value: normalizeApp(result.data) };
}

/**
 * An env value may be an object (a secret reference), so one that a YAML tag made
 * a byte buffer, a date or a set was checked as one: every method of a buffer came
 * back as an "unknown field". Such a value is one problem, at its variable.
 */
function withTaggedEnvValues(issues: SpecIssue[], doc: unknown): SpecIssue[] {
  const env = isRecord(doc) && isRecord(doc.env) ? doc.env : {};
  const tagged = Object.keys(env).filter((key) => isYamlTagged(env[key]));
  if (tagged.length === 0) return issues;
  const under = (issue: SpecIssue, key: string) => issue.path[0] === 'env' && issue.path[1] === key;
  const kept = issues.filter((issue) => !tagged.some((key) => under(issue, key)));
  const own = tagged.map((key) => ({ path: ['env', key], message: `must be a string, number or boolean, or an object with one of secret, fromFile or fromEnv, not ${describe(env[key])}` }));
  return [...kept, ...own];
}
