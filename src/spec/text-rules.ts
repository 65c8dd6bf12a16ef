/**
 * Rules for text that ends up in headers, container config or HTML: env names and
 * values, labels, waiting-page wording. A CR or LF there can forge a header line
 * or a log line, and a NUL truncates the value in C code (the engine, the app's
 * libc), so berth and the consumer would disagree on what was set.
 */

const NAMES: Record<number, string> = { 0: 'NUL', 9: 'a tab', 10: 'a line feed (LF)', 13: 'a carriage return (CR)', 0x7f: 'DEL' };

/**
 * The first C0 control character (or DEL) in `text`, described, with its position;
 * undefined when there is none. A tab is allowed where `allowTab` says so.
 */
export function controlCharProblem(text: string, allowTab: boolean): string | undefined {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if ((code < 0x20 && !(allowTab && code === 9)) || code === 0x7f) {
      const name = NAMES[code] ?? `the control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
      return `must not contain control characters: ${name} at position ${i}`;
    }
  }
  return undefined;
}
