// `berth logs` on a terminal: an app's escape sequences are shown, not obeyed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TerminalText, visibleControls } from '../../src/cli/terminal-text.js';

test('visibleControls: colour kept; cursor moves, title, clipboard, bell, C1 CSI shown as cat -v does', () => {
  assert.equal(visibleControls('\x1b[31mred\x1b[0m plain\ttab\r\n'), '\x1b[31mred\x1b[0m plain\ttab\r\n');
  // Up one line and clear it: would rewrite what was shown before.
  assert.equal(visibleControls('ok\x1b[1A\x1b[2Kfake'), 'ok^[[1A^[[2Kfake');
  // Window title (OSC 0, BEL-terminated) and a clipboard write (OSC 52, ST-terminated).
  assert.equal(visibleControls('\x1b]0;pwned\x07'), '^[]0;pwned^G');
  assert.equal(visibleControls('\x1b]52;c;ZWNobyBoaQ==\x1b\\'), '^[]52;c;ZWNobyBoaQ==^[\\');
  assert.equal(visibleControls('\u009b2J\u007f\u0000'), 'M-^[2J^?^@');
  assert.equal(visibleControls('é ✓ 日本'), 'é ✓ 日本');
});

test('TerminalText: a colour sequence or a UTF-8 character split between chunks stays whole', () => {
  const screen = new TerminalText();
  const red = Buffer.from('a\x1b[3');
  const rest = Buffer.from('1mb é\x1b');
  const euro = Buffer.from('€');
  let out = screen.write(red);
  out += screen.write(Buffer.concat([rest, euro.subarray(0, 1)]));
  out += screen.write(euro.subarray(1));
  out += screen.end();
  // The lone ESC before € is no colour sequence: it is shown.
  assert.equal(out, 'a\x1b[31mb é^[€');
});

test('TerminalText: an escape held at the end of a chunk is not held for ever', () => {
  const screen = new TerminalText();
  assert.equal(screen.write('x\x1b'), 'x');
  assert.equal(screen.write('[2J'), '^[[2J');
  assert.equal(screen.write(`\x1b[${'1;'.repeat(40)}`), '^[[' + '1;'.repeat(40));
});

test('TerminalText.close: the terminal is handed back with colours off and the line ended, however the app left it', () => {
  // A colour never reset and a last line without its line feed (or a follow cut by Ctrl-C half way):
  // the shell's prompt came back red, after the app's text.
  const cut = new TerminalText();
  assert.equal(cut.write('ok\n\x1b[31merror: half'), 'ok\n\x1b[31merror: half');
  assert.equal(cut.close(), '\x1b[0m\n');
  // A colour sequence held at the end is shown as text, then the reset and the line end follow.
  const held = new TerminalText();
  held.write('\x1b[1mbold\x1b[0m done\n\x1b[3');
  assert.equal(held.close(), '^[[3\n');
  // Output that ended cleanly gets nothing added.
  const clean = new TerminalText();
  clean.write('\x1b[32mgreen\x1b[m\n');
  assert.equal(clean.close(), '');
  assert.equal(new TerminalText().close(), '');
});

test('visibleControls: a bare CR (a line written over) is ^M, a bidi override its escape; CR LF line ends are kept', () => {
  // "ok" then back to the start of the line: the terminal showed only "FAKE ok".
  assert.equal(visibleControls('job failed\rjob ok    \r\n'), 'job failed^Mjob ok    \r\n');
  assert.equal(visibleControls('rm -rf \u202efdp.exe\u2066x\u2069'), 'rm -rf \\u202efdp.exe\\u2066x\\u2069');
  assert.equal(visibleControls('end\r'), 'end^M');
});

test('TerminalText: a CR at the end of a chunk waits for the next: a CR LF split between chunks stays a line end', () => {
  const screen = new TerminalText();
  assert.equal(screen.write('line one\r'), 'line one');
  assert.equal(screen.write('\nline two\r'), '\r\nline two');
  assert.equal(screen.write('FAKE\n'), '^MFAKE\n');
  const cut = new TerminalText();
  cut.write('x\r');
  assert.equal(cut.close(), '^M\n');
});
