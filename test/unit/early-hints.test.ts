import { test } from 'node:test';
import assert from 'node:assert/strict';
import { earlyHintsHead } from '../../src/proxy/front/early-hints.js';

const text = (headers: Record<string, string | string[]>) => earlyHintsHead(headers)?.toString('latin1');

test("the front's 103 is the one Node's writeEarlyHints writes: Link first, its values joined, the other fields after", () => {
  assert.equal(text({ link: '</a.css>; rel=preload' }), 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n');
  assert.equal(
    text({ 'x-hint': ['1', '2'], link: ['</a.css>; rel=preload', '</b.js>; rel=preload'], 'x-other': 'o' }),
    'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload, </b.js>; rel=preload\r\nx-hint: 1,2\r\nx-other: o\r\n\r\n',
  );
});

test('hints without a Link, or with one Node would refuse, are not sent', () => {
  assert.equal(text({ 'x-hint': '1' }), undefined);
  assert.equal(text({ link: 'not a link' }), undefined);
  assert.equal(text({ link: ['</a.css>; rel=preload', 'junk'] }), undefined);
  // Several links in one value are not one link to Node.
  assert.equal(text({ link: '</a.css>; rel=preload, </b.js>; rel=preload' }), undefined);
});
