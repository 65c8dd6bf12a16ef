import { Parser } from 'yaml';

/** Deeper than any spec needs; far below the ~800 levels at which the YAML composer's recursion overflows the stack. */
export const MAX_NESTING_DEPTH = 64;

/**
 * More entries than any spec's mapping needs (env, labels). The YAML composer
 * checks each new key against every earlier key of its mapping, so one mapping
 * of n entries costs n² comparisons: a 1 MiB body of 100,000 keys held the
 * event loop, and with it every proxied request, for over a minute.
 */
export const MAX_MAPPING_ENTRIES = 1000;

/**
 * More items than any list of a spec needs (routes, command, mounts, dependsOn), checked in
 * spec texts only. The apply of one spec runs on the event loop the proxy shares: one with
 * 50,000 routes (a 1 MiB body) held it for a second, 250,000 dependsOn names for longer.
 * Many apps in one request are bounded by the API (MAX_APPS_PER_REQUEST).
 */
export const MAX_LIST_ITEMS = 10_000;

interface CstNode {
  type?: string;
  offset?: number;
  start?: { source?: string };
  value?: unknown;
  items?: ReadonlyArray<{ key?: unknown; value?: unknown }>;
}

/**
 * Why `text` is refused before the YAML composer sees it, or undefined. Read as
 * "the text …": `is nested more than 64 levels deep`, `has a mapping of more than
 * 1000 entries (line 3)`.
 *
 * Depth: the YAML composer recurses once per level, and a stack overflow met
 * while V8 compiles a regular expression is a fatal error, not a RangeError: a
 * body of `[[[[…` would end the process. Width: see MAX_MAPPING_ENTRIES. Both
 * are measured first, on the concrete syntax tree, which the parser builds
 * without recursion, walked here with an explicit stack.
 */
export function yamlShapeProblem(text: string, limits: { depth: number; entries: number; items?: number } = { depth: MAX_NESTING_DEPTH, entries: MAX_MAPPING_ENTRIES }): string | undefined {
  const deep = `is nested more than ${limits.depth} levels deep`;
  // Building the tree takes time that grows faster than the depth; a flood of brackets is refused at once.
  if (rawBracketDepth(text) > FLOOD || longestIndicatorRun(text) > FLOOD) return deep;
  for (const token of new Parser().parse(text)) {
    const stack: Array<[unknown, number]> = [[token, 0]];
    while (stack.length > 0) {
      const [node, depth] = stack.pop()!;
      if (node === null || typeof node !== 'object') continue;
      const cst = node as CstNode;
      const isCollection = cst.type === 'block-map' || cst.type === 'block-seq' || cst.type === 'flow-collection';
      const inner = isCollection ? depth + 1 : depth;
      if (inner > limits.depth) return deep;
      const isMapping = cst.type === 'block-map' || (cst.type === 'flow-collection' && cst.start?.source === '{');
      if (isMapping && (cst.items?.length ?? 0) > limits.entries) {
        return `has a mapping of more than ${limits.entries} entries (line ${lineAt(text, cst.offset ?? 0)})`;
      }
      const isList = cst.type === 'block-seq' || (cst.type === 'flow-collection' && cst.start?.source === '[');
      if (isList && limits.items !== undefined && (cst.items?.length ?? 0) > limits.items) {
        return `has a list of more than ${limits.items} items (line ${lineAt(text, cst.offset ?? 0)})`;
      }
      if (typeof cst.value === 'object') stack.push([cst.value, inner]);
      for (const item of cst.items ?? []) {
        stack.push([item.key, inner]);
        stack.push([item.value, inner]);
      }
    }
  }
  return undefined;
}

/**
 * Whether a JSON text nests arrays and objects deeper than `limit`: what walks
 * the parsed value afterwards recurses. One pass over the characters, skipping
 * strings (JSON.parse itself then refuses what is malformed).
 */
export function jsonNestsDeeperThan(text: string, limit = MAX_NESTING_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

/** Unclosed brackets, or `- ` at the start of one line, past which text is refused unread: no spec has anywhere near this many, even in its strings. */
const FLOOD = 1000;

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** The most brackets open at once, counting those in strings and comments too (an upper bound of flow nesting). */
function rawBracketDepth(text: string): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) max = Math.max(max, ++depth);
    else if ((c === 0x5d || c === 0x7d) && depth > 0) depth--;
  }
  return max;
}

/** The longest run of `- ` or `? ` (each one more level of nesting) that starts a line. */
function longestIndicatorRun(text: string): number {
  const runs = text.match(/^[ \t]*(?:[-?][ \t]+)+/gm) ?? [];
  let max = 0;
  for (const run of runs) max = Math.max(max, run.replace(/[ \t]/g, '').length);
  return max;
}
