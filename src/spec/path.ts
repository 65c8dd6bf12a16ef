/**
 * Field paths. Problems are collected as segment arrays (so a YAML document can
 * be asked where a segment lives) and formatted only at the edge, the same way
 * everywhere: `routes[0].path`, `env.GREETING`, `labels["traefik.enable"]`.
 */
import type { FieldProblem } from '../errors.js';

export type PathSegment = string | number;

/** One problem in one document, located by its path inside that document. */
export interface SpecIssue {
  path: PathSegment[];
  message: string;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Formats a path. `prefix` locates the document itself (`[1]` for the second
 * document of a file, `apps[2]` for an inline spec in a config) and is joined
 * as if it were more segments. The empty path is the whole document.
 */
export function formatPath(segments: readonly PathSegment[], prefix = ''): string {
  let out = prefix;
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += out ? `.${segment}` : segment;
    // Keys with dots or dashes (label and env names) stay readable and unambiguous.
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out || '(document)';
}

export function toFieldProblems(issues: readonly SpecIssue[], prefix = ''): FieldProblem[] {
  return issues.map((issue) => ({ path: formatPath(issue.path, prefix), message: issue.message }));
}

/** The outcome of checking one document: the normalized spec, or every problem found. */
export type Checked<T> = { ok: true; value: T } | { ok: false; issues: SpecIssue[] };
