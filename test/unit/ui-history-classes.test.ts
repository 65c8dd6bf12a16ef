// The Requests tab's status filter against what the history holds since WebSockets are
// recorded: a tunnel is kept with status 101, so the filter offers 1xx (the API takes
// it), and every class the filter offers has its colour in the stylesheet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';

const base = new URL('../../../src/ui/static/', import.meta.url);
// The dashboard's own module, as the browser loads it (from dist/test/unit/ to src/).
const view = (await import(new URL('js/history-view.js', base).href)) as { CLASSES?: Array<[string, string]> };

test('history filter: WebSocket records (101) can be picked out as 1xx', () => {
  assert.ok(Array.isArray(view.CLASSES), 'history-view.js exports its status classes');
  const values = view.CLASSES!.map(([value]) => value);
  assert.ok(values.includes('1xx'), `classes offered: ${values.join(', ')}`);
  assert.deepEqual(values.filter((v) => v !== ''), ['1xx', '2xx', '3xx', '4xx', '5xx']);
});

test('history filter: every class offered has a colour rule for its status codes', async () => {
  const css = await readFile(new URL('app.css', base), 'utf8');
  for (const [value] of view.CLASSES!) {
    if (value) assert.ok(css.includes(`.status-code[data-class='${value}']`), `no colour for ${value}`);
  }
});
