/**
 * The compatibility forms are checked by mapping them onto berth/v1 and running
 * the berth/v1 rules. A problem found there is moved back to the field the user
 * actually wrote (`routes[0].host` → `spec.domain`), so the message points into
 * their document, not into one they never saw.
 */
import type { PathSegment, SpecIssue } from './path.js';

export interface PathMapping {
  /** A berth/v1 path (or prefix of one). */
  from: PathSegment[];
  /** Where that value came from in the original document. */
  to: PathSegment[];
  /** Prepended to messages, e.g. the Traefik matcher a route came from. */
  note?: string;
  /** The original is one value (a rule string) standing for a whole structure: drop the rest of the path. */
  whole?: boolean;
}

function startsWith(path: readonly PathSegment[], prefix: readonly PathSegment[]): boolean {
  return prefix.length <= path.length && prefix.every((segment, i) => segment === path[i]);
}

/** Moves each issue to its original path; the longest matching mapping wins. */
export function remapIssues(issues: readonly SpecIssue[], mappings: readonly PathMapping[]): SpecIssue[] {
  return issues.map((issue) => {
    let best: PathMapping | undefined;
    for (const mapping of mappings) {
      if (startsWith(issue.path, mapping.from) && (!best || mapping.from.length > best.from.length)) best = mapping;
    }
    if (!best) return issue;
    const path = best.whole ? best.to : [...best.to, ...issue.path.slice(best.from.length)];
    return { path, message: best.note ? `${best.note}: ${issue.message}` : issue.message };
  });
}

/** Drops repeated problems: the compatibility schema and berth/v1 may both notice one slip. */
export function uniqueIssues(issues: readonly SpecIssue[]): SpecIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = JSON.stringify([issue.path, issue.message]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
