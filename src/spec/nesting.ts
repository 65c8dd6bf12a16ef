/**
 * How deep a YAML or JSON text nests its flow collections (`[`, `{`), counted
 * outside quoted strings. The YAML parser recurses per level and, some thousands
 * of levels down, does not just throw but exhausts the heap and aborts the whole
 * process, so depth is refused before parsing. No app spec or config comes close.
 */
export const MAX_NESTING = 64;

/** A one-line reason when `text` nests deeper than `max`, else undefined. O(n), no allocation. */
export function nestingProblem(text: string, max = MAX_NESTING): string | undefined {
  let depth = 0;
  let quote = 0; // the char code of the open quote, or 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (quote !== 0) {
      if (c === 92 /* \ */ && quote === 34) i++; // an escape in a double-quoted string
      else if (c === quote) quote = 0;
      continue;
    }
    if (c === 34 /* " */ || c === 39 /* ' */) quote = c;
    else if (c === 91 /* [ */ || c === 123 /* { */) {
      if (++depth > max) return `nested deeper than ${max} levels of [ ] or { }; no spec needs that`;
    } else if ((c === 93 /* ] */ || c === 125) /* } */ && depth > 0) depth--;
  }
  return undefined;
}
