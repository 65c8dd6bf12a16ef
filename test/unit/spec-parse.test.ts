import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpecError, type FieldProblem } from '../../src/errors.js';
import { parseSpecText } from '../../src/spec/parse.js';

function problemsOf(text: string, source = 'apps.yaml'): FieldProblem[] {
  try {
    parseSpecText(text, source);
  } catch (err) {
    assert.ok(err instanceof SpecError, `expected SpecError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail('the text was accepted');
}

const hello = `apiVersion: berth/v1
name: hello
image: berth-example/hello:latest
port: 8080
`;

describe('parseSpecText: YAML', () => {
  it('reads one document', () => {
    const [spec, ...rest] = parseSpecText(hello, 'hello.yaml');
    assert.equal(rest.length, 0);
    assert.equal(spec?.name, 'hello');
    assert.deepEqual(spec?.routes, [{ path: '/session/hello/', stripPrefix: false }]);
  });

  it('reads several documents and skips empty ones', () => {
    const text = `---\n${hello}---\n# nothing here\n---\n${hello.replace('hello\n', 'world\n')}---\n`;
    assert.deepEqual(
      parseSpecText(text, 'apps.yaml').map((s) => s.name),
      ['hello', 'world'],
    );
  });

  it('gives no apps for empty text or a file of comments', () => {
    assert.deepEqual(parseSpecText('', 'empty.yaml'), []);
    assert.deepEqual(parseSpecText('# just a comment\n', 'empty.yaml'), []);
  });

  it('reads the SWS form and the berth form side by side', () => {
    const sws = 'apiVersion: v1\nspec:\n  name: shop\n  port: 80\n  domain: shop.example.com\n  image: shop:1\n';
    const specs = parseSpecText(`${hello}---\n${sws}`, 'mixed.yaml');
    assert.deepEqual(specs.map((s) => [s.name, s.routes[0]?.host ?? s.routes[0]?.path]), [
      ['hello', '/session/hello/'],
      ['shop', 'shop.example.com'],
    ]);
  });

  it('keeps YAML 1.2 scalars as written (no "yes"/"no" booleans)', () => {
    const [spec] = parseSpecText(`${hello}env:\n  FLAG: yes\n  MODE: off\n`, 'hello.yaml');
    assert.deepEqual(spec?.env, { FLAG: 'yes', MODE: 'off' });
  });

  it('locates problems of a single document by field path and line', () => {
    const text = `${hello}routes:\n  - path: session/hello\n`;
    assert.deepEqual(problemsOf(text), [{ path: 'routes[0].path', message: 'must start with "/" (line 6)' }]);
  });

  it('prefixes problems with the document index when a file has several, in reading order', () => {
    const bad = `apiVersion: berth/v1\nname: world\nimage: x\nport: 0\nroutes:\n  - {path: session}\nextra: 1\n`;
    const problems = problemsOf(`${hello}---\n${bad}`);
    assert.deepEqual(problems, [
      { path: '[1].port', message: 'must be at least 1 (line 9)' },
      { path: '[1].routes[0].path', message: 'must start with "/" (line 11)' },
      { path: '[1].extra', message: 'unknown field (allowed: apiVersion, name, image, port, routes, env, volume, command, scale, idleTimeout, startTimeout, timeouts, readiness, resources, waiting, balance, health, strategy, input, dependsOn, idleAction, removeAfter, queueSize, waitingPage, hsts, network, mounts, security, labels) (line 12)' },
    ]);
  });

  it('counts documents as they stand in the file, empty ones included', () => {
    const problems = problemsOf(`${hello}---\n# empty\n---\n${hello.replace('8080', '0')}`);
    // The name given twice is said beside the port (spec-hostile-documents.test.ts), at the same document.
    assert.deepEqual(problems.map((p) => p.path), ['[2].port', '[2].name']);
  });

  it('reports problems of every document, not only the first', () => {
    const problems = problemsOf(`${hello.replace('8080', '0')}---\n${hello.replace('hello\n', 'Bad\n')}`);
    assert.deepEqual(problems.map((p) => p.path), ['[0].port', '[1].name']);
  });

  it('reports YAML syntax errors with line and column', () => {
    const problems = problemsOf('apiVersion: berth/v1\nname: hello\n  port: 8080\n');
    assert.ok(problems.length >= 1);
    assert.equal(problems[0]?.path, '(document)');
    assert.match(problems[0]!.message, /^YAML syntax error: Nested mappings are not allowed in compact mappings at line 2, column 7$/);
  });

  it('reports a syntax error in one document and field problems in another', () => {
    const problems = problemsOf(`${hello.replace('8080', '0')}---\nname: [unclosed\n`);
    assert.equal(problems[0]?.path, '[1]');
    assert.match(problems[0]!.message, /YAML syntax error: .*line \d+, column \d+/);
    assert.deepEqual(problems[1], { path: '[0].port', message: 'must be at least 1 (line 4)' });
  });

  it('refuses duplicate keys, which would otherwise hide one of the values', () => {
    const problems = problemsOf(`${hello}port: 9090\n`);
    assert.match(problems[0]!.message, /YAML syntax error: Map keys must be unique at line 5/);
  });

  it('refuses alias bombs', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 6; i++) lines.push(`${'bcdefg'[i]}: &${'bcdefg'[i]} [${Array(10).fill(`*${i === 0 ? 'a' : 'bcdefg'[i - 1]}`).join(', ')}]`);
    const problems = problemsOf(`${hello}labels: {}\n${lines.join('\n')}\n`);
    assert.match(problems[0]!.message, /YAML syntax error: .*alias/i);
  });

  it('refuses deep nesting before composing it (a stack overflow there can be fatal to the process)', () => {
    const bodies = ['['.repeat(200_000) + ']'.repeat(200_000), '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000), '- '.repeat(100_000) + 'x\n', Array.from({ length: 1000 }, (_, i) => `${' '.repeat(i)}a:`).join('\n') + ' 1\n'];
    for (const body of bodies) {
      const problems = problemsOf(body);
      assert.equal(problems.length, 1);
      assert.match(problems[0]!.message, /nested more than 64 levels/);
    }
    // 64 levels is still read (and then judged as a spec).
    assert.doesNotMatch(problemsOf(`${hello}labels: ${'['.repeat(63)}${']'.repeat(63)}\n`)[0]!.message, /nested/);
  });

  it('refuses a mapping of more than 1000 entries before composing it (the composer compares each key with every earlier one: n² for n keys)', () => {
    const env = (n: number) => Array.from({ length: n }, (_, i) => `  K${i}: v`).join('\n');
    const flow = (n: number) => `{${Array.from({ length: n }, (_, i) => `"k${i}": 1`).join(', ')}}`;
    for (const body of [`${hello}env:\n${env(5000)}\n`, flow(5000), `- name: a\n- ${flow(1001)}\n`]) {
      const problems = problemsOf(body);
      assert.equal(problems.length, 1);
      assert.match(problems[0]!.message, /has a mapping of more than 1000 entries \(line \d+\)/);
    }
    assert.match(problemsOf(`- name: a\n- ${flow(1001)}\n`)[0]!.message, /line 2/);
    // 1000 variables are still read (and the spec judged as usual).
    assert.deepEqual(Object.keys(parseSpecText(`${hello}env:\n${env(1000)}\n`, 'apps.yaml')[0]!.env).length, 1000);
  });

  it('names what a YAML tag made of a field, not "a mapping" for a mapping that is not one', () => {
    const cases: Array<[string, RegExp]> = [
      ['env: !!set {a, b}\n', /^must be a mapping, not a YAML !!set/],
      ['env: !!omap [a: 1]\n', /^must be a mapping, not a YAML !!omap/],
      ['command: !!binary aGVsbG8=\n', /^must be a list, not YAML !!binary data/],
      ['volume: !!timestamp 2001-12-14\n', /^must be a string, not a YAML !!timestamp/],
      ['scale: {min: .inf}\n', /^must be a number, not infinity \(\.inf\)/],
    ];
    for (const [field, message] of cases) {
      const problems = problemsOf(`${hello}${field}`);
      assert.equal(problems.length, 1, field);
      assert.match(problems[0]!.message, message, field);
    }
  });

  it('names the source in the error message', () => {
    assert.throws(() => parseSpecText(hello.replace('8080', '0'), 'apps/hello.yaml'), {
      message: 'apps/hello.yaml: port: must be at least 1 (line 4)',
    });
  });
});

describe('parseSpecText: JSON', () => {
  const json = { apiVersion: 'berth/v1', name: 'hello', image: 'berth-example/hello:latest', port: 8080 };

  it('reads a single object', () => {
    assert.deepEqual(parseSpecText(JSON.stringify(json), 'hello.json').map((s) => s.name), ['hello']);
  });

  it('reads an array of objects', () => {
    const text = JSON.stringify([json, { ...json, name: 'world' }], null, 2);
    assert.deepEqual(parseSpecText(text, 'apps.json').map((s) => s.name), ['hello', 'world']);
  });

  it('locates problems in an array by item index', () => {
    const text = JSON.stringify([json, { ...json, name: 'world', routes: [{ path: 'x' }] }]);
    assert.deepEqual(problemsOf(text), [{ path: '[1].routes[0].path', message: 'must start with "/"' }]);
  });

  it('gives line numbers in multi-line JSON but not in a one-line body', () => {
    const pretty = JSON.stringify({ ...json, port: 0 }, null, 2);
    assert.deepEqual(problemsOf(pretty), [{ path: 'port', message: 'must be at least 1 (line 5)' }]);
    assert.deepEqual(problemsOf(JSON.stringify({ ...json, port: 0 })), [{ path: 'port', message: 'must be at least 1' }]);
  });

  it('reports JSON syntax errors with line and column', () => {
    const problems = problemsOf('{\n  "name": "hello",\n  "port": 80,,\n}');
    assert.match(problems[0]!.message, /line 3, column \d+/);
  });

  it('refuses array items that are not objects', () => {
    assert.deepEqual(problemsOf(JSON.stringify([json, 'world'])), [
      { path: '[1]', message: 'must be a mapping of fields (an app spec)' },
    ]);
  });
});
