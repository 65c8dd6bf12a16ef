import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_JSON_LINE_CHARS, drainJsonLines } from '../../src/runtime/docker/json-lines.js';

test('drainJsonLines: complete lines only, across chunks, skipping blanks and non-JSON', () => {
  const seen: unknown[] = [];
  let rest = drainJsonLines('{"a":1}\n\n{"b":', (m) => seen.push(m));
  assert.equal(rest, '{"b":');
  rest = drainJsonLines(`${rest}2}\n<html>oops</html>\n{"c":3}\n{"d"`, (m) => seen.push(m));
  assert.deepEqual(seen, [{ a: 1 }, { b: 2 }, { c: 3 }]);
  assert.equal(rest, '{"d"');
});

test('drainJsonLines: a stream without newlines is not held whole; lines after it are read', () => {
  const seen: unknown[] = [];
  let rest = '';
  const chunk = 'x'.repeat(64 * 1024);
  for (let i = 0; i < 40; i++) {
    rest = drainJsonLines(rest + chunk, (m) => seen.push(m));
    assert.ok(rest.length <= MAX_JSON_LINE_CHARS, `${rest.length} characters held after ${i + 1} chunks`);
  }
  rest = drainJsonLines(`${rest}xxx}\n{"a":1}\n`, (m) => seen.push(m));
  assert.deepEqual(seen, [{ a: 1 }]);
  assert.equal(rest, '');
});
