/**
 * Linux starts no program with one argument or `NAME=value` longer than 128 KiB
 * (MAX_ARG_STRLEN): such a container was accepted and then failed at every start
 * with "argument list too long". Refused at apply now, naming the field.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SpecError } from '../../src/errors.js';
import { parseSpecObject, validateAppSet } from '../../src/spec/index.js';

const base = { apiVersion: 'berth/v1', name: 'web', image: 'example/web:1', port: 8080 };
const x = (n: number) => 'x'.repeat(n);

function problemsOf(extra: Record<string, unknown>): string[] {
  try {
    parseSpecObject({ ...base, ...extra });
  } catch (err) {
    assert.ok(err instanceof SpecError, String(err));
    return err.problems.map((p) => p.path);
  }
  return [];
}

describe('strings a program receives', () => {
  const cases: Array<[string, Record<string, unknown>, string[]]> = [
    ['a variable just within the bound', { env: { A: x(131_000) } }, []],
    ['a variable past it', { env: { A: x(140_000) } }, ['env.A']],
    ['NAME=value past it by its name', { env: { [`A${x(1000)}`]: x(130_500) } }, [`env.A${x(1000)}`]],
    ['a secret literal past it', { env: { S: { secret: x(140_000) } } }, ['env.S']],
    ['a reference (read at create, size unknown)', { env: { S: { fromEnv: 'TOKEN' } } }, []],
    ['an argument past it', { command: ['sh', x(140_000)] }, ['command[1]']],
    ['many small arguments', { command: Array.from({ length: 1000 }, () => x(100)) }, []],
    ['a multi-byte value counted in bytes', { env: { A: 'é'.repeat(70_000) } }, ['env.A']],
  ];
  for (const [what, extra, expected] of cases) {
    it(`${expected.length > 0 ? 'refuses' : 'accepts'} ${what}`, () => assert.deepEqual(problemsOf(extra), expected));
  }

  it('refuses the same in an SWS declaration, at its own path', () => {
    const sws = { apiVersion: 'v1', spec: { name: 'shop', port: 8081, domain: 'shop.example.com', image: 'shop:1', env: [{ name: 'A', value: x(140_000) }] } };
    assert.throws(() => parseSpecObject(sws), (err: unknown) => err instanceof SpecError && err.problems.length === 1 && err.problems[0]!.path === 'spec.env[0].value');
  });

  it('says how long it is and the bound', () => {
    assert.throws(() => parseSpecObject({ ...base, env: { A: x(140_000) } }), /env\.A: the variable \(NAME=value\) is 140002 bytes; Linux starts no program with one longer than 131071 bytes/);
  });

  it('refuses input delivered as env past the bound, whatever limits.inputBytes allows', () => {
    const spec = parseSpecObject({ ...base, input: { data: { blob: x(140_000) }, as: 'env' } });
    assert.throws(() => validateAppSet([spec], undefined, { inputBytes: 1 << 20 }), /apps\[0\]\.input\.data: app "web": input as env: its variable \(NAME=JSON\) is \d+ bytes; .*deliver it as: file or url/);
    const asFile = parseSpecObject({ ...base, input: { data: { blob: x(140_000) }, as: 'file' } });
    assert.doesNotThrow(() => validateAppSet([asFile], undefined, { inputBytes: 1 << 20 }));
  });
});
