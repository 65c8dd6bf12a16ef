import { StringDecoder } from 'node:string_decoder';

/**
 * An app's output, as `berth logs` shows it on a terminal. The app's author is not
 * the operator: its bytes must not drive the operator's terminal. Escape sequences
 * can move the cursor and rewrite lines already shown (or berth's own), set the
 * window title, write the clipboard (OSC 52) or make links. Colour and style (SGR,
 * `ESC [ … m`) are kept, as apps colour their logs and they only paint the app's
 * own text; every other control character is shown the way `cat -v` shows it
 * (`^[`, `^G`, `M-^[`), with tab, line feed and carriage return left as they are.
 * A pipe or a file gets the bytes unchanged (see logsCommand).
 */
// eslint-disable-next-line no-control-regex
const SHOWN = /\x1b\[[0-9;:]*m|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/g;
// eslint-disable-next-line no-control-regex
const SGR = /^\x1b\[[0-9;:]*m$/;
/** A colour sequence that turns every colour and style off. */
// eslint-disable-next-line no-control-regex
const RESET = /^\x1b\[0*m$/;
/** A possible start of a colour sequence at the end of a chunk, whose rest may come with the next one. */
// eslint-disable-next-line no-control-regex
const OPEN_SEQUENCE = /\x1b(\[[0-9;:]{0,32})?$/;

/** `text` with its control characters made visible, colour sequences kept. Pure. */
export function visibleControls(text: string): string {
  return text.replace(SHOWN, (match) => (SGR.test(match) ? match : caret(match.charCodeAt(0))));
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
