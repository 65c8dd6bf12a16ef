import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lowerHeaderName } from '../../src/proxy/header-name.js';

test('a header name is lower-cased the same way whether it was seen before, past the names kept, or too long to keep', () => {
  assert.equal(lowerHeaderName('Content-Type'), 'content-type');
  assert.equal(lowerHeaderName('Content-Type'), 'content-type');
  assert.equal(lowerHeaderName('content-type'), 'content-type');
  for (let i = 0; i < 300; i++) assert.equal(lowerHeaderName(`X-Name-${i}`), `x-name-${i}`);
  assert.equal(lowerHeaderName('X-After-The-Bound'), 'x-after-the-bound');
  assert.equal(lowerHeaderName('X-After-The-Bound'), 'x-after-the-bound');
  const long = `X-${'Long'.repeat(20)}`;
  assert.equal(lowerHeaderName(long), long.toLowerCase());
  assert.equal(lowerHeaderName('Content-Type'), 'content-type');
});
