/**
 * The longest line kept while its end has not arrived. The engine's event lines are a
 * few KiB; something that streams without newlines (not the engine) would otherwise
 * be held whole, growing for as long as the stream lasts.
 */
export const MAX_JSON_LINE_CHARS = 1 << 20;

/**
 * The engine's streams (events, and others) send one JSON object per line, and a
 * line may span chunks. Hands every complete line of `buffered` to `onMessage`,
 * skipping blank lines and lines that are not JSON (a proxy's error page, say), and
 * returns what is left: the start of a line whose end has not arrived yet, unless it
 * is already longer than MAX_JSON_LINE_CHARS.
 */
export function drainJsonLines<T>(buffered: string, onMessage: (message: T) => void): string {
  let rest = buffered;
  let newline: number;
  while ((newline = rest.indexOf('\n')) >= 0) {
    const line = rest.slice(0, newline).trim();
    rest = rest.slice(newline + 1);
    if (!line) continue;
    let message: T;
    try {
      message = JSON.parse(line) as T;
    } catch {
      continue;
    }
    onMessage(message);
  }
  // Dropped past the bound: the rest of that line, when its end comes, does not parse and is skipped too.
  return rest.length > MAX_JSON_LINE_CHARS ? '' : rest;
}
