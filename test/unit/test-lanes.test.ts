// scripts/test.sh's lanes: a test file whose imports can reach the Docker client runs in
// the engine lane (one file at a time); the others run beside it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { engineChain, importSpecifiers, laneLines } from '../support/test-lanes.js';

test('import specifiers: static, side-effect, re-export and literal dynamic imports; nothing in strings or comments that only mention them', () => {
  const cases: Array<[string, string[]]> = [
    [`import { a } from './a.js';`, ['./a.js']],
    [`import Docker from 'dockerode';\nimport x, { y } from "../y.js";`, ['dockerode', '../y.js']],
    [`import './side.js';`, ['./side.js']],
    [`export { b } from './b.js';\nexport * from './c.js';`, ['./b.js', './c.js']],
    [`import {\n  a,\n  b,\n} from './multi.js';`, ['./multi.js']],
    [`const m = await import('./lazy.js');`, ['./lazy.js']],
    [`const s = 'see dockerode';`, []],
    [`const port = from; // not an import`, []],
    [`import(name);`, []],
  ];
  for (const [source, expected] of cases) assert.deepEqual(importSpecifiers(source), expected, source);
});

test('engine chain: found through any depth of relative imports, not through cycles or packages', () => {
  const graph: Record<string, string[]> = {
    '/t/a.test.js': ['node:test', './support/h.js'],
    '/t/support/h.js': ['../../src/x.js', 'pino'],
    '/src/x.js': ['./docker/client.js'],
    '/src/docker/client.js': ['dockerode'],
    '/t/free.test.js': ['./support/c1.js', 'pg'],
    '/t/support/c1.js': ['./c2.js'],
    '/t/support/c2.js': ['./c1.js'], // a cycle
    '/t/pkg.test.js': ['some-package-that-uses-dockerode'],
  };
  const of = (file: string) => graph[file] ?? assert.fail(`read ${file}, which is not in the graph`);
  assert.deepEqual(engineChain('/t/a.test.js', of), ['/t/a.test.js', '/t/support/h.js', '/src/x.js', '/src/docker/client.js', 'dockerode']);
  assert.equal(engineChain('/t/free.test.js', of), undefined);
  assert.equal(engineChain('/t/pkg.test.js', of), undefined);
});

test('the compiled suites: engine users and engine-free files land in their lanes', () => {
  const dist = fileURLToPath(new URL('../', import.meta.url)); // dist/test/
  const lanes = new Map(laneLines([`${dist}integration`, `${dist}adversarial`]).map((line) => [line.slice(line.indexOf(' ') + 1).slice(dist.length), line.split(' ')[0]]));
  const expected: Array<[string, string]> = [
    ['integration/runtime-docker.test.js', 'engine'], // DockerRuntime directly
    ['integration/scale-from-zero-idle.test.js', 'engine'], // through test support
    ['adversarial/fuzz-heads.test.js', 'engine'], // a child `berth serve` (gateway-process)
    ['adversarial/front.test.js', 'free'], // the HTTP/1.1 front in-process
    ['adversarial/upstreams.test.js', 'free'], // the proxy against raw upstreams
    ['integration/leader-lease.test.js', 'free'], // PostgreSQL only
  ];
  for (const [file, lane] of expected) assert.equal(lanes.get(file), lane, file);
  assert.ok([...lanes.keys()].every((file) => file.endsWith('.test.js')), 'only test files');
});
