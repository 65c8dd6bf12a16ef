import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpecError, type FieldProblem } from '../../src/errors.js';
import { parseSpecObject, parseSpecText } from '../../src/spec/parse.js';
import type { AppSpec } from '../../src/spec/types.js';

/** The service declaration exactly as the SWS README (seed 003) shows it. */
const seedExample = `apiVersion: v1
spec:
  name: service-name
  port: 8081
  domain: example.com
  image: my-repo/my-image:somve-version
  volumeMount: /foo/bar
  env:
    - name: KEY_1
      value: foo
    - name: KEY_2
      bar: bar
`;

function problemsOf(run: () => unknown): FieldProblem[] {
  try {
    run();
  } catch (err) {
    assert.ok(err instanceof SpecError, `expected SpecError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail('the spec was accepted');
}

const swsSpec = (spec: Record<string, unknown>) => ({
  apiVersion: 'v1',
  spec: { name: 'shop', port: 8081, domain: 'shop.example.com', image: 'shop:1', ...spec },
});

describe('SWS v1 service declarations', () => {
  it('refuses the seed example as printed, pointing at its env slip ("bar" for "value")', () => {
    assert.deepEqual(problemsOf(() => parseSpecText(seedExample, 'service.yaml')), [
      { path: 'spec.env[1].value', message: 'required (line 11)' },
      { path: 'spec.env[1].bar', message: 'unknown field (allowed: name, value) (line 12)' },
    ]);
  });

  it('maps the seed example, slip corrected, onto berth/v1', () => {
    const [spec, ...rest] = parseSpecText(seedExample.replace('bar: bar', 'value: bar'), 'service.yaml');
    assert.equal(rest.length, 0);
    const expected: AppSpec = {
      name: 'service-name',
      image: 'my-repo/my-image:somve-version',
      port: 8081,
      routes: [{ host: 'example.com', stripPrefix: false }],
      env: { KEY_1: 'foo', KEY_2: 'bar' },
      volume: '/foo/bar',
      scale: { min: 0, max: 1, replicas: 1 },
      startTimeoutMs: 60_000,
      readiness: {},
      resources: {},
      waiting: 'auto',
      idleAction: 'stop',
      balance: 'least-connections',
      strategy: { type: 'blue-green', batchSize: 1 },
      dependsOn: [],
      security: { privileged: false, capAdd: [], hostNetwork: false, hostPid: false },
      mounts: [],
      labels: {},
    };
    assert.deepEqual(spec, expected);
  });

  it('reads the same declaration from JSON', () => {
    const spec = parseSpecText(JSON.stringify(swsSpec({ env: [{ name: 'N', value: 3 }] })), 'shop.json')[0];
    assert.deepEqual(spec?.env, { N: '3' });
    assert.deepEqual(spec?.routes, [{ host: 'shop.example.com', stripPrefix: false }]);
    assert.equal(spec?.volume, undefined);
  });

  it('needs the three required fields (the port may come from the image), reported at their SWS paths', () => {
    assert.deepEqual(
      problemsOf(() => parseSpecObject({ apiVersion: 'v1', spec: {} })).map((p) => `${p.path}: ${p.message}`),
      ['spec.name: required', 'spec.domain: required', 'spec.image: required'],
    );
  });

  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['a name that is not a DNS label', { name: 'Shop_1' }, 'spec.name: must be a DNS label'],
    ['a port out of range', { port: 70000 }, 'spec.port: must be at most 65535'],
    ['a domain with a scheme', { domain: 'https://shop.example.com' }, 'spec.domain: must be a host name'],
    ['an image with spaces', { image: 'my image' }, 'spec.image: must be an image reference'],
    ['a relative volumeMount', { volumeMount: 'data' }, 'spec.volumeMount: must be an absolute path'],
    ['an env that is not a list', { env: { A: 'b' } }, 'spec.env: must be a list, not a mapping'],
    ['an env entry that is not a mapping', { env: ['A=b'] }, 'spec.env[0]: must be a mapping'],
    ['an env name with "="', { env: [{ name: 'A', value: '1' }, { name: 'B=C', value: '2' }] }, 'spec.env[1].name: variable names must be non-empty'],
    ['an env value that is a list', { env: [{ name: 'A', value: [1] }] }, 'spec.env[0].value: must be a string, number or boolean'],
    ['an env name given twice', { env: [{ name: 'A', value: '1' }, { name: 'A', value: '2' }] }, 'spec.env[1].name: A is already set by spec.env[0]'],
    ['an unknown spec field', { replicas: 2 }, 'spec.replicas: unknown field'],
  ];
  for (const [title, change, expected] of cases) {
    it(`refuses ${title}`, () => {
      const problems = problemsOf(() => parseSpecObject(swsSpec(change))).map((p) => `${p.path}: ${p.message}`);
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.ok(problems[0]!.startsWith(expected), `${problems[0]} does not start with ${expected}`);
    });
  }

  it('refuses fields beside spec and a missing spec', () => {
    const extra = problemsOf(() => parseSpecObject({ ...swsSpec({}), kind: 'Service' }));
    assert.deepEqual(extra.map((p) => p.path), ['kind']);
    assert.deepEqual(problemsOf(() => parseSpecObject({ apiVersion: 'v1' })), [{ path: 'spec', message: 'required' }]);
  });

  it('reports every problem of one declaration together', () => {
    const problems = problemsOf(() => parseSpecObject(swsSpec({ name: 'X', port: 0, env: [{ name: 'A' }], extra: 1 })));
    assert.deepEqual(problems.map((p) => p.path).sort(), ['spec.env[0].value', 'spec.extra', 'spec.name', 'spec.port']);
  });
});
