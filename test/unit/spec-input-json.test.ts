import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSpecText } from '../../src/spec/parse.js';
import { notJson } from '../../src/spec/json-value.js';

const spec = (data: string) => `apiVersion: berth/v1\nname: web\nimage: example/web:1\nport: 8080\ninput:\n  data:\n    ${data}\n`;

function problemsOf(text: string): Array<{ path: string; message: string }> {
  try {
    parseSpecText(text, 'web.yaml');
  } catch (err) {
    return (err as { problems?: Array<{ path: string; message: string }> }).problems ?? [{ path: '', message: (err as Error).message }];
  }
  return [];
}

describe('input.data: what JSON cannot carry is refused, naming its place, not changed or dropped', () => {
  // Each of these was accepted and given to the app changed: a set or an ordered map as {}, binary as a Buffer's JSON,
  // a timestamp moved to UTC, .nan and .inf as null.
  const refused: Array<[string, string, RegExp]> = [
    ['a: !!set {x, y}', 'input.data.a', /^is a YAML !!set \(write a plain mapping or list\), which JSON cannot carry as it is \(line 7\)$/],
    ['a: !!omap [{x: 1}]', 'input.data.a', /^is a YAML !!omap or !!pairs \(write a plain mapping\), which JSON cannot carry as it is \(line 7\)$/],
    ['a: !!binary aGVsbG8=', 'input.data.a', /^is YAML !!binary data, which JSON cannot carry as it is \(line 7\)$/],
    ['a: !!timestamp 2001-12-14t21:59:43.10-05:00', 'input.data.a', /^is a YAML !!timestamp \(quote it to make it text\), which JSON cannot carry as it is \(line 7\)$/],
    ['a: [1, .nan]', 'input.data.a[1]', /^is not-a-number \(\.nan\), which JSON has no form for: write a number or a string \(line 7\)$/],
    ['{a: {b: [x, {c: -.inf}]}}', 'input.data.a.b[1].c', /^is infinity \(\.inf\), which JSON has no form for: write a number or a string \(line 7\)$/],
  ];
  for (const [data, path, message] of refused) {
    it(`refuses ${data}`, () => {
      const problems = problemsOf(spec(data));
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.equal(problems[0]!.path, path);
      assert.match(problems[0]!.message, message);
      assert.match(problems[0]!.message, /\(line 7\)$/);
    });
  }

  it('takes !!pairs as the list of mappings it is (nothing lost)', () => {
    const [web] = parseSpecText(spec('a: !!pairs [{x: 1}, {x: 2}]'), 'web.yaml');
    assert.deepEqual(JSON.parse(web!.input!.json), { a: [{ x: 1 }, { x: 2 }] });
  });

  it('takes every JSON value as written, dates in plain text as strings', () => {
    const [web] = parseSpecText(spec('{s: "x", n: -1.5, t: true, z: null, d: 2001-12-14, l: [1, [2, {k: v}]], e: {}}'), 'web.yaml');
    assert.deepEqual(JSON.parse(web!.input!.json), { d: '2001-12-14', e: {}, l: [1, [2, { k: 'v' }]], n: -1.5, s: 'x', t: true, z: null });
  });

  it('notJson: a table of values', () => {
    const cases: Array<[unknown, string | undefined]> = [
      [null, undefined],
      [[1, 'a', { b: [true] }], undefined],
      [Object.create(null), undefined],
      [{ a: new Uint8Array(2) }, 'a'],
      [[new Date(0)], '0'],
      [{ a: { b: new Map() } }, 'a.b'],
      [{ a: undefined }, 'a'],
      [{ a: 10n }, 'a'],
      [new (class Point {})(), ''],
    ];
    for (const [value, at] of cases) assert.equal(notJson(value)?.path.join('.'), at, String(at));
  });
});
