import type { ApplyAnswer, ApplyResult, FieldChange } from '../api-types.js';
import type { Paint } from '../colour.js';
import { printable } from '../api-errors.js';
import { shownText } from '../terminal-text.js';

/** The most changed paths named on one `updated` line before the rest are counted. */
const MAX_PATHS = 6;
const MAX_VALUE = 100;

/** One line per app: `hello created (revision 1)`, `hello updated (revision 2): env.KEY_1`, `hello unchanged (revision 2)`. */
export function resultLines(answer: ApplyAnswer, p: Paint): string[] {
  if (answer.dryRun) return answer.results.flatMap((r) => dryRunLines(r, p));
  return answer.results.flatMap((r) => {
    const line = resultLine(r, p);
    // Stored, but not (yet) what runs: a rolled-back update, or a start that failed.
    return r.error ? [line, `  ${p.red(printable(r.error))}`] : [line];
  });
}

function resultLine(r: ApplyResult, p: Paint): string {
  const head = `${p.bold(shownText(r.name))} ${actionLabel(r.action, p)} (revision ${r.revision})`;
  if (r.action !== 'updated') return head;
  const paths = r.changes.map((c) => shownText(c.path));
  const shown = paths.slice(0, MAX_PATHS).join(', ');
  return `${head}: ${shown}${paths.length > MAX_PATHS ? ` and ${paths.length - MAX_PATHS} more` : ''}`;
}

function actionLabel(action: ApplyResult['action'], p: Paint): string {
  if (action === 'created') return p.green(action);
  if (action === 'updated') return p.yellow(action);
  return p.dim(action);
}

/** What would happen, and the fields that would change: `+` added, `-` removed, `~` changed. */
function dryRunLines(r: ApplyResult, p: Paint): string[] {
  if (r.action === 'unchanged') return [`${p.bold(shownText(r.name))} unchanged (revision ${r.revision})`];
  const head = r.action === 'created' ? `${p.bold(shownText(r.name))} would be created (revision 1)` : `${p.bold(shownText(r.name))} would be updated (revision ${r.revision - 1} → ${r.revision})`;
  return [head, ...expand(r.changes).map((c) => `  ${changeLine(c, p)}`)];
}

/** A new app's diff is the whole spec at `(spec)`; show it field by field. */
function expand(changes: readonly FieldChange[]): FieldChange[] {
  return changes.flatMap((c) => {
    if (c.path === '(spec)' && c.from === undefined && c.to && typeof c.to === 'object' && !Array.isArray(c.to)) {
      return Object.entries(c.to as Record<string, unknown>).map(([path, to]) => ({ path, to }));
    }
    return [c];
  });
}

function changeLine(c: FieldChange, p: Paint): string {
  if (c.from === undefined) return p.green(`+ ${shownText(c.path)}: ${show(c.to)}`);
  if (c.to === undefined) return p.red(`- ${shownText(c.path)}: ${show(c.from)}`);
  return p.yellow(`~ ${shownText(c.path)}: ${show(c.from)} → ${show(c.to)}`);
}

function show(value: unknown): string {
  // JSON escapes C0 controls; shownText the rest a terminal would act on (C1, bidi overrides), which an env value may carry.
  return shownText(JSON.stringify(value) ?? String(value), MAX_VALUE);
}
