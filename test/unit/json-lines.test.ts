import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drainJsonLines } from '../../src/runtime/docker/json-lines.js';

test('drainJsonLines: complete lines only, across chunks, skipping blanks and non-JSON', () => {
  const seen: unknown[] = [];
  let rest = drainJsonLines('{"a":1}\n\n{"b":', (m) => seen.push(m));
  assert.equal(rest, '{"b":');
  rest = drainJsonLines(`${rest}2}\n<html>oops</html>\n{"c":3}\n{"d"`, (m) => seen.push(m));
  assert.deepEqual(seen, [{ a: 1 }, { b: 2 }, { c: 3 }]);
  assert.equal(rest, '{"d"');
});
