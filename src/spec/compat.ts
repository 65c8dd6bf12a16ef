/**
 * The common way a compatibility form is checked: its own shape first (unknown
 * keys, list entries), then its values by the berth/v1 rules after mapping, with
 * problems moved back to the original paths. Both passes always run, so the user
 * sees every problem at once.
 */
import type { z } from 'zod';
import { checkBerthApp } from './berth-v1.js';
import { friendlyError } from './messages.js';
import type { Checked, SpecIssue } from './path.js';
import { type PathMapping, remapIssues, uniqueIssues } from './remap.js';
import type { AppSpec } from './types.js';
import { issuesFromZod } from './zod-issues.js';

export interface Mapped {
  /** A berth/v1 document, not yet validated. */
  input: Record<string, unknown>;
  mappings: PathMapping[];
  /** Problems only the original form can see (a name set twice in a list, for instance). */
  issues: SpecIssue[];
}

/** `toBerth` maps what it can, even from a flawed document; undefined when nothing can be mapped. */
export function checkCompat(doc: unknown, shape: z.ZodType, toBerth: (doc: unknown) => Mapped | undefined): Checked<AppSpec> {
  const parsed = shape.safeParse(doc, { error: friendlyError });
  const issues = parsed.success ? [] : issuesFromZod(parsed.error, shape);
  const mapped = toBerth(doc);
  if (!mapped) return { ok: false, issues };
  const berth = checkBerthApp(mapped.input);
  if (berth.ok && issues.length === 0 && mapped.issues.length === 0) return berth;
  const berthIssues = berth.ok ? [] : remapIssues(berth.issues, mapped.mappings);
  return { ok: false, issues: uniqueIssues([...issues, ...mapped.issues, ...berthIssues]) };
}
