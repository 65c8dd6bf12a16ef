import { StringDecoder } from 'node:string_decoder';

/**
 * An app's output, as `berth logs` shows it on a terminal. The app's author is not
 * the operator: its bytes must not drive the operator's terminal. Escape sequences
 * can move the cursor and rewrite lines already shown (or berth's own), set the
 * window title, write the clipboard (OSC 52) or make links. Colour and style (SGR,
 * `ESC [ … m`) are kept, as apps colour their logs and they only paint the app's
 * own text; every other control character is shown the way `cat -v` shows it
 * (`^[`, `^G`, `M-^[`), with tab, line feed and a carriage return before a line feed
 * left as they are. A bare carriage return (`ok\rFAKE`: the cursor back to the start of
 * the line, to write over it) is `^M`, and bidirectional overrides and isolates (which
 * reorder a line as it is shown) are their escapes (`\u202e`).
 * A pipe or a file gets the bytes unchanged (see logsCommand).
 */
// eslint-disable-next-line no-control-regex
const SHOWN = /\x1b\[[0-9;:]*m|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)|[\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const SGR = /^\x1b\[[0-9;:]*m$/;
/** A colour sequence that turns every colour and style off. */
// eslint-disable-next-line no-control-regex
const RESET = /^\x1b\[0*m$/;
/**
 * A possible start of a colour sequence at the end of a chunk, whose rest may come with the next
 * one; or a carriage return, whose line feed may.
 */
// eslint-disable-next-line no-control-regex
const OPEN_SEQUENCE = /(\x1b(\[[0-9;:]{0,32})?|\r)$/;

/** `text` with its control characters made visible, colour sequences kept. Pure. */
export function visibleControls(text: string): string {
  return text.replace(SHOWN, (match) => {
    if (SGR.test(match)) return match;
    const code = match.charCodeAt(0);
    return code > 0xff ? `\\u${code.toString(16)}` : caret(code);
  });
}

/** `cat -v`'s notation: ^@…^_ for C0, ^? for DEL, M- before the C1 ones. */
function caret(code: number): string {
  if (code >= 0x80) return `M-${caret(code - 0x80)}`;
  return code === 0x7f ? '^?' : `^${String.fromCharCode(code + 64)}`;
}

/**
 * visibleControls over a stream cut at arbitrary points: a UTF-8 character or a
 * colour sequence split between two chunks is kept whole.
 */
export class TerminalText {
  private readonly decoder = new StringDecoder('utf8');
  private held = '';
  /** Whether what was shown leaves a colour or style on, or a line unfinished. */
  private styled = false;
  private lineOpen = false;

  write(chunk: Buffer | string): string {
    const text = this.held + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    const open = OPEN_SEQUENCE.exec(text);
    this.held = open ? open[0] : '';
    return this.shown(visibleControls(open ? text.slice(0, open.index) : text));
  }

  /** What is left once the stream ended. */
  end(): string {
    const rest = visibleControls(this.held + this.decoder.end());
    this.held = '';
    return this.shown(rest);
  }

  /**
   * What is left, then the terminal put back as the shell expects it: colours off and the
   * line ended. An app that set a colour and never reset it, or whose last line had no line
   * feed (or a follow ended by Ctrl-C half way), left the prompt red, or after its text.
   */
  close(): string {
    const rest = this.end();
    return `${rest}${this.styled ? '\x1b[0m' : ''}${this.lineOpen ? '\n' : ''}`;
  }

  private shown(text: string): string {
    if (text === '') return text;
    this.lineOpen = !text.endsWith('\n');
    for (const [sequence] of text.matchAll(SHOWN)) if (SGR.test(sequence)) this.styled = !RESET.test(sequence);
    return text;
  }
}

/**
 * What a terminal would act on, or not show, in a value: C0 and C1 controls (ESC and so every
 * escape sequence, CR, backspace, line feed), and format characters (bidi overrides and
 * isolates, zero-width spaces and joiners, the BOM), line and paragraph separators, and
 * halves of a surrogate pair that lost their other half.
 */
const UNSHOWN = /[\p{Cc}\p{Cf}\p{Cs}\u2028\u2029]/gu;

/**
 * A value the API gave (a request path, an app's name or reason, an env value, a token's name),
 * as a table cell or a summary field shows it: whoever sent a request or applied a spec chose
 * it, not the operator who reads it. Every character of UNSHOWN is written as its escape
 * (`\x1b`, `\r`, `\u202e`), so nothing moves the cursor, sets the title, writes the clipboard,
 * reorders or hides text, or starts another line; every other character is kept as it is.
 * Past `maxChars` characters it is cut with a `…` (tables; -o json carries it whole). Pure.
 */
export function shownText(text: string, maxChars = Infinity): string {
  const shown = text.replace(UNSHOWN, escapeOf);
  const chars = [...shown];
  return chars.length > maxChars ? `${chars.slice(0, Math.max(0, maxChars - 1)).join('')}…` : shown;
}

const SHORT: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function escapeOf(char: string): string {
  const code = char.charCodeAt(0);
  return SHORT[char] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
}
