// Spec documents built to confuse the reader, through the text reader every entry shares
// (API bodies, berth apply -f, the config's spec files), the object reader (inline specs)
// and the cntSpawner body:
//  - a lone surrogate ("\ud800", which JSON and YAML escapes allow) was applied as given and
//    shown so, while the engine got U+FFFD in its place (it has no UTF-8 form);
//  - a mapping key that is a list or a mapping (`? [a, b] : c`) became its YAML text (an env
//    variable named "[ a, b ]"), with a warning on the gateway's stderr and none to the author;
//  - a YAML error quoting what it failed on (a 100 KB alias name) made a 200 KB message;
//  - a name given twice was not said while another document had a problem: the author
//    fixed that one and only then heard of the name.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readConfigText } from '../../src/config/config-text.js';
import { loadConfig } from '../../src/config/load-config.js';
import { SpecError, type FieldProblem } from '../../src/errors.js';
import { parseCntSpawnerBody, parseSpecObject, parseSpecText } from '../../src/spec/parse.js';

function problemsOf(read: () => unknown): FieldProblem[] {
  try {
    read();
  } catch (err) {
    assert.ok(err instanceof SpecError, `expected SpecError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail('the document was accepted');
}

const web = (name = 'web') => `apiVersion: berth/v1\nname: ${name}\nimage: example/web:1\nport: 8080\n`;

describe('spec documents: lone surrogates', () => {
  it('are refused in values and names, in YAML and JSON, naming the field', () => {
    const cases: Array<[string, string, string]> = [
      ['a YAML escape in an env value', `${web()}env: {A: "x\\ud800"}\n`, 'env.A'],
      ['a JSON escape in an env value', JSON.stringify({ apiVersion: 'berth/v1', name: 'web', image: 'example/web:1', port: 8080, env: { A: '\ud800' } }), 'env.A'],
      ['a label name', JSON.stringify({ apiVersion: 'berth/v1', name: 'web', image: 'example/web:1', port: 8080, labels: { 'x\udc00': 'v' } }), 'labels["x\\udc00"]'],
      ['a waiting page text', `${web()}waitingPage: {title: "\\udfff"}\n`, 'waitingPage.title'],
    ];
    for (const [what, text, path] of cases) {
      const problems = problemsOf(() => parseSpecText(text, 'web.yaml'));
      assert.equal(problems.length, 1, `${what}: ${JSON.stringify(problems)}`);
      assert.equal(problems[0]!.path, path, what);
      assert.match(problems[0]!.message, /^(the name )?must be Unicode text: a lone surrogate \(\\u[0-9A-F]{4}\) at position \d/, what);
    }
  });

  it('a pair of surrogates (one character past U+FFFF) is text like any other', () => {
    const [spec] = parseSpecText(`${web()}env: {A: "\\ud83d\\ude00", B: "😀"}\n`, 'web.yaml');
    assert.deepEqual(spec!.env, { A: '😀', B: '😀' });
  });

  it('are refused in an inline spec and a cntSpawner body too', () => {
    const inline = problemsOf(() => parseSpecObject({ apiVersion: 'berth/v1', name: 'web', image: 'example/web:1', port: 8080, env: { A: 'a\ud800' } }, 'apps[0]'));
    assert.deepEqual(inline.map((p) => p.path), ['apps[0].env.A']);
    const body = problemsOf(() => parseCntSpawnerBody({ name: 'minion', image: 'example/web:1', port: 8080, envs: { A: '\udc00' } }));
    assert.deepEqual(body.map((p) => p.path), ['envs.A']);
  });
});

describe('spec documents: keys that are lists or mappings', () => {
  it('are refused with their line and column, without a warning on stderr', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const cases: Array<[string, string, RegExp]> = [
        ['a flow list', `${web()}env: {? [a, b] : c}\n`, /mapping key is a list at line 5, column 9/],
        ['a flow mapping', `${web()}labels: {? {a: b} : c}\n`, /mapping key is a mapping at line 5, column 12/],
        ['a block list', `${web()}env:\n  ? - a\n    - b\n  : c\n`, /mapping key is a list at line 6/],
        ['an alias of a list', `${web()}x-keys: &k [a]\nenv: {*k : c}\n`, /mapping key is a list at line 6/],
      ];
      for (const [what, text, message] of cases) {
        const problems = problemsOf(() => parseSpecText(text, 'web.yaml'));
        assert.equal(problems.length, 1, `${what}: ${JSON.stringify(problems)}`);
        assert.match(problems[0]!.message, message, what);
        assert.match(problems[0]!.message, /^YAML mapping key is .*: a key must be a plain name$/, what);
      }
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(warnings, []);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('are refused in the gateway config too', () => {
    const read = readConfigText('listen: 127.0.0.1:0\npolicy:\n  images: {? [a] : b}\n');
    assert.equal(read.ok, false);
    assert.match(read.ok ? '' : read.problem, /^: mapping key is a list at line 3, column 14: a key must be a plain name$/);
  });

  it('a scalar key of another type is still read as its text (a number)', () => {
    const [spec] = parseSpecText(`${web()}env: {1: a, true: b}\n`, 'web.yaml');
    assert.deepEqual(spec!.env, { 1: 'a', true: 'b' });
  });
});

describe('spec documents: YAML errors quoting the text', () => {
  it('cut a long word short: a 100 KB alias name does not make a 200 KB message', () => {
    const problems = problemsOf(() => parseSpecText(`${web()}x: *${'a'.repeat(100_000)}\n`, 'web.yaml'));
    assert.equal(problems.length, 1);
    assert.match(problems[0]!.message, /^YAML alias \*a{50,}… at line \d+, column \d+ names no anchor/);
    assert.ok(problems[0]!.message.length < 300, `${problems[0]!.message.length} characters`);
  });

  it('say where an alias naming no anchor is, in a spec and in the gateway config', () => {
    const cases: Array<[string, RegExp]> = [
      [`${web()}command: *nope\n`, /alias \*nope at line 5, column 10 names no anchor: an anchor \(&nope\) must be set before the alias/],
      [`${web()}env: {A: *later}\nx: &later 1\n`, /alias \*later at line 5, column 10 names no anchor/],
      [`${web()}env: {A: &a [*a]}\n`, /alias \*a at line 5, column 14 is inside the value its anchor names/],
    ];
    for (const [text, expected] of cases) {
      const problems = problemsOf(() => parseSpecText(text, 'web.yaml'));
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.match(problems[0]!.message, expected);
    }
    const read = readConfigText('listen: 127.0.0.1:0\nadmin: *where\n');
    assert.equal(read.ok, false);
    assert.match(read.ok ? '' : read.problem, /alias \*where at line 2, column 8 names no anchor/);
  });
});

describe('spec documents: a name given twice beside other problems', () => {
  it('is reported with them, at the later document', () => {
    const text = [web('api'), web('api'), `${web('db')}scale: {min: -1}\n`].join('---\n');
    const problems = problemsOf(() => parseSpecText(text, 'apps.yaml'));
    assert.deepEqual(problems, [
      { path: '[2].scale.min', message: 'must be at least 0 (line 15)' },
      { path: '[1].name', message: '"api" is also the name of apps.yaml, document 1; app names must be unique (line 7)' },
    ]);
  });

  it('counts documents that have problems of their own, and the SWS form\'s spec.name', () => {
    const sws = 'apiVersion: v1\nspec: {name: api, domain: api.example.com, image: example/api:1, port: 8080}\n';
    const text = [web('api'), `${web('api')}port: 0\n`.replace('port: 8080\n', ''), sws].join('---\n');
    const problems = problemsOf(() => parseSpecText(text, 'apps.yaml'));
    assert.deepEqual(
      problems.map((p) => [p.path, p.message.replace(/ \(line \d+\)$/, '')]),
      [
        ['[1].port', 'must be at least 1'],
        ['[1].name', '"api" is also the name of apps.yaml, document 1; app names must be unique'],
        ['[2].spec.name', '"api" is also the name of apps.yaml, document 1; app names must be unique'],
      ],
    );
  });

  it('a refused name is not compared, and a text with no other problem leaves names to the set check', () => {
    const bad = problemsOf(() => parseSpecText([web('Api'), web('Api')].join('---\n'), 'apps.yaml'));
    assert.ok(bad.every((p) => p.path.endsWith('.name') && !p.message.includes('also the name')), JSON.stringify(bad));
    assert.equal(parseSpecText([web('api'), web('api')].join('---\n'), 'apps.yaml').length, 2);
  });
});

describe('spec documents in the gateway config', () => {
  it('a spec file\'s problems, a name given twice among them, and an inline spec\'s, in one refusal, each file named as in the config', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-hostile-config-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    await mkdir(join(dir, 'apps'));
    await writeFile(join(dir, 'apps', 'a.yaml'), [`${web('a')}env: {? [x] : y}\n`, web('b'), web('b').replace('port: 8080', 'port: 0')].join('---\n'));
    const inline = '  - apiVersion: berth/v1\n    name: inl\n    image: example/web:1\n    port: 8080\n    env: {A: "\\ud800"}\n';
    await writeFile(join(dir, 'berth.yaml'), `listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nstore: ./berth.db\napps:\n  - ./apps/\n${inline}`);
    let message = '';
    await assert.rejects(loadConfig(join(dir, 'berth.yaml')), (err: unknown) => {
      assert.ok(err instanceof SpecError, String(err));
      message = err.message;
      return true;
    });
    assert.match(message, /^apps\/a\.yaml, document 1: YAML mapping key is a list at line 5, column 9: a key must be a plain name; /);
    assert.match(message, /; apps\/a\.yaml, document 3: port: must be at least 1 \(line 15\); /);
    assert.match(message, /; apps\/a\.yaml, document 3: name: "b" is also the name of apps\/a\.yaml, document 2; app names must be unique \(line 13\); /);
    assert.match(message, /; berth\.yaml: apps\[1\]\.env\.A: must be Unicode text: a lone surrogate \(\\uD800\)/);
    assert.ok(!message.includes(dir), `the files are named as in the config, not by their full path: ${message}`);
  });
});
