/** Checks one berth/v1 document and normalizes it into an AppSpec. */
import { friendlyError } from './messages.js';
import { normalizeApp } from './normalize.js';
import type { Checked } from './path.js';
import { berthAppSchema } from './schema.js';
import type { AppSpec } from './types.js';
import { issuesFromZod } from './zod-issues.js';

export function checkBerthApp(doc: unknown): Checked<AppSpec> {
  const result = berthAppSchema.safeParse(doc, { error: friendlyError });
  if (!result.success) return { ok: false, issues: issuesFromZod(result.error, berthAppSchema) };
  return { ok: true, value: normalizeApp(result.data) };
}
