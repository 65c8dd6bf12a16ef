// The logs view against an app that colours its output or writes terminal controls:
// what the page shows is the text, not "[31m" around each coloured word, and no
// control character or bidi override that would disguise a line.
import { test } from 'node:test';
import assert from 'node:assert/strict';

// The dashboard's own module, as the browser loads it (from dist/test/unit/ to src/).
const text = (await import(new URL('../../../src/ui/static/js/log-text.js', import.meta.url).href).catch(() => ({}))) as { plainLogLine?: (line: string) => string };

function plain(line: string): string {
  assert.equal(typeof text.plainLogLine, 'function', 'the logs view has a plain-text rule for app output');
  return text.plainLogLine!(line);
}

test('logs: colour and style sequences are dropped, the words kept', () => {
  assert.equal(plain('\x1b[32mINFO\x1b[0m \x1b[1;31mfailed\x1b[m to bind'), 'INFO failed to bind');
});

test('logs: cursor moves, a window title (OSC) and a clipboard write are dropped; bell and bidi overrides become spaces; tabs stay', () => {
  assert.equal(plain('a\x1b[2K\x1b[1Ab'), 'ab');
  assert.equal(plain('\x1b]0;pwned\x07title\x1b]52;c;ZXZpbA==\x1b\\ok'), 'titleok');
  assert.equal(plain('ding\x07\tx\u202egnp.exe'), 'ding \tx gnp.exe');
});

test('logs: HTML in a line is kept as text (the view sets it as a text node)', () => {
  assert.equal(plain('<script>alert(1)</script>'), '<script>alert(1)</script>');
});
