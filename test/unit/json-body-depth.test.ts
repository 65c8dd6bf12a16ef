import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseJsonBody } from '../../src/api/body.js';
import { BadRequestError } from '../../src/errors.js';
import { jsonNestsDeeperThan } from '../../src/spec/nesting-depth.js';

describe('JSON bodies: nesting is measured on the characters, not on a YAML syntax tree (which took seconds per MiB)', () => {
  it('counts brackets outside strings only', () => {
    const cases: Array<[string, boolean]> = [
      [`${'['.repeat(64)}${']'.repeat(64)}`, false],
      [`${'['.repeat(65)}${']'.repeat(65)}`, true],
      [`{"a":${'{"b":'.repeat(64)}1${'}'.repeat(65)}`, true],
      [`{"s":"${'['.repeat(500)}"}`, false],
      [`{"s":"\\"${'{'.repeat(500)}"}`, false],
      [`["\\\\", ${'['.repeat(65)}${']'.repeat(65)}]`, true],
    ];
    for (const [text, deep] of cases) assert.equal(jsonNestsDeeperThan(text), deep, text.slice(0, 40));
  });

  it('refuses a deep body with a clear 400 and reads a wide one', () => {
    assert.throws(() => parseJsonBody(Buffer.from('['.repeat(100_000) + ']'.repeat(100_000))), (err: unknown) => err instanceof BadRequestError && /nested more than 64 levels/.test(err.message));
    const wide = `{${Array.from({ length: 50_000 }, (_, i) => `"k${i}":"[{"`).join(',')}}`;
    assert.equal(Object.keys(parseJsonBody(Buffer.from(wide)) as object).length, 50_000);
  });
});
