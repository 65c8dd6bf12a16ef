import { Parser } from 'yaml';

/** Deeper than any spec needs; far below the ~800 levels at which the YAML composer's recursion overflows the stack. */
export const MAX_NESTING_DEPTH = 64;

interface CstNode {
  type?: string;
  value?: unknown;
  items?: ReadonlyArray<{ key?: unknown; value?: unknown }>;
}

/**
 * Whether some document of `text` nests collections (block or flow) deeper than
 * `limit`. The YAML composer recurses once per level, and a stack overflow met
 * while V8 compiles a regular expression is a fatal error, not a RangeError: a
 * body of `[[[[…` would end the process. So depth is measured first, on the
 * concrete syntax tree, which the parser builds without recursion, walked here
 * with an explicit stack.
 */
export function nestsDeeperThan(text: string, limit = MAX_NESTING_DEPTH): boolean {
  // Building the tree takes time that grows faster than the depth; a flood of brackets is refused at once.
  if (rawBracketDepth(text) > FLOOD || longestIndicatorRun(text) > FLOOD) return true;
  for (const token of new Parser().parse(text)) {
    const stack: Array<[unknown, number]> = [[token, 0]];
    while (stack.length > 0) {
      const [node, depth] = stack.pop()!;
      if (node === null || typeof node !== 'object') continue;
      const cst = node as CstNode;
      const isCollection = cst.type === 'block-map' || cst.type === 'block-seq' || cst.type === 'flow-collection';
      const inner = isCollection ? depth + 1 : depth;
      if (inner > limit) return true;
      if (typeof cst.value === 'object') stack.push([cst.value, inner]);
      for (const item of cst.items ?? []) {
        stack.push([item.key, inner]);
        stack.push([item.value, inner]);
      }
    }
  }
  return false;
}

/** Unclosed brackets, or `- ` at the start of one line, past which text is refused unread: no spec has anywhere near this many, even in its strings. */
const FLOOD = 1000;

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
