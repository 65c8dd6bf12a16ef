import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpecError } from '../../src/errors.js';
import { parseSpecObject } from '../../src/spec/parse.js';
import type { AppSpec } from '../../src/spec/types.js';

const minimal = { apiVersion: 'berth/v1', name: 'hello', image: 'berth-example/hello:latest', port: 8080 };

/** Every problem of a refused spec as `path: message`. */
function problemsOf(doc: unknown, where?: string): string[] {
  try {
    parseSpecObject(doc, where);
  } catch (err) {
    assert.ok(err instanceof SpecError, `expected SpecError, got ${String(err)}`);
    assert.equal(err.code, 'spec_invalid');
    return err.problems.map((p) => `${p.path}: ${p.message}`);
  }
  assert.fail('the spec was accepted');
}

describe('berth/v1: defaults and normalization', () => {
  it('fills in every default for a minimal spec', () => {
    const expected: AppSpec = {
      name: 'hello',
      image: 'berth-example/hello:latest',
      port: 8080,
      routes: [{ path: '/session/hello/', stripPrefix: false }],
      env: {},
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
    assert.deepEqual(parseSpecObject(minimal), expected);
  });

  it('reads the full example of the design document', () => {
    const spec = parseSpecObject({
      ...minimal,
      routes: [{ path: '/session/hello/', stripPrefix: false }, { host: 'hello.example.com' }],
      env: { GREETING: 'hi' },
      volume: '/data',
      scale: { min: 0, max: 1, replicas: 1 },
      idleTimeout: '1m',
      startTimeout: '60s',
      readiness: { path: '/healthz' },
      waiting: 'auto',
      idleAction: 'stop',
      balance: 'least-connections',
      strategy: { type: 'blue-green', batchSize: 1 },
      dependsOn: [],
      security: { privileged: false, capAdd: [], hostNetwork: false, hostPid: false },
    });
    assert.deepEqual(spec.routes, [
      { path: '/session/hello/', stripPrefix: false },
      { host: 'hello.example.com', stripPrefix: false },
    ]);
    assert.deepEqual(spec.env, { GREETING: 'hi' });
    assert.equal(spec.volume, '/data');
    assert.equal(spec.idleTimeoutMs, 60_000);
    assert.equal(spec.startTimeoutMs, 60_000);
    assert.deepEqual(spec.readiness, { path: '/healthz' });
  });

  it('adds the trailing "/" to path prefixes and lowercases hosts', () => {
    assert.equal(parseSpecObject({ ...minimal, routes: [{ path: '/a%2Fb/caf%C3%A9/~x/' }] }).routes[0]!.path, '/a%2Fb/caf%C3%A9/~x/', 'a normalised prefix with escapes is taken');
    const spec = parseSpecObject({ ...minimal, routes: [{ path: '/a/b', stripPrefix: true }, { host: 'App.Example.COM', path: '/' }] });
    assert.deepEqual(spec.routes, [
      { path: '/a/b/', stripPrefix: true },
      { host: 'app.example.com', path: '/', stripPrefix: false },
    ]);
  });

  it('stringifies numbers and booleans in env and labels', () => {
    const spec = parseSpecObject({ ...minimal, env: { PORT: 8080, DEBUG: true, NAME: 'x' }, labels: { tier: 2, 'com.example.team': 'web' } });
    assert.deepEqual(spec.env, { PORT: '8080', DEBUG: 'true', NAME: 'x' });
    assert.deepEqual(spec.labels, { tier: '2', 'com.example.team': 'web' });
  });

  it('converts durations to ms and sizes to bytes', () => {
    const spec = parseSpecObject({ ...minimal, idleTimeout: 90, startTimeout: '1m30s', resources: { memory: '256m', cpus: 0.5, pids: 100 } });
    assert.equal(spec.idleTimeoutMs, 90_000);
    assert.equal(spec.startTimeoutMs, 90_000);
    assert.deepEqual(spec.resources, { memoryBytes: 256 * 2 ** 20, cpus: 0.5, pids: 100 });
  });

  it('defaults scale.max to scale.min when min is above 1', () => {
    assert.deepEqual(parseSpecObject({ ...minimal, scale: { min: 3 } }).scale, { min: 3, max: 3, replicas: 3 });
    assert.deepEqual(parseSpecObject({ ...minimal, scale: { max: 4 } }).scale, { min: 0, max: 4, replicas: 1 });
  });

  it('bounds every scale figure at 100 instances (each one is a container started, probed and watched at once)', () => {
    assert.deepEqual(parseSpecObject({ ...minimal, scale: { min: 100 } }).scale, { min: 100, max: 100, replicas: 100 });
    assert.deepEqual(problemsOf({ ...minimal, scale: { min: 100_000 } }), ['scale.min: must be at most 100']);
    assert.deepEqual(problemsOf({ ...minimal, scale: { max: 101 } }), ['scale.max: must be at most 100']);
    assert.deepEqual(problemsOf({ ...minimal, scale: { replicas: 1e6 } }), ['scale.replicas: must be at most 100']);
  });

  it('keeps command, network and mounts', () => {
    const spec = parseSpecObject({
      ...minimal,
      command: ['node', 'server.js'],
      network: 'traefiknet',
      mounts: [{ source: '/srv/data', target: '/data', readOnly: true }, { source: '/srv/cache', target: '/cache' }],
      waiting: 'page',
      idleAction: 'stop',
      balance: 'least-connections',
      strategy: { type: 'blue-green', batchSize: 1 },
      dependsOn: [],
      security: { privileged: false, capAdd: [], hostNetwork: false, hostPid: false },
    });
    assert.deepEqual(spec.command, ['node', 'server.js']);
    assert.equal(spec.network, 'traefiknet');
    assert.equal(spec.waiting, 'page');
    assert.deepEqual(spec.mounts, [
      { source: '/srv/data', target: '/data', readOnly: true },
      { source: '/srv/cache', target: '/cache', readOnly: false },
    ]);
  });

  it('accepts wildcard hosts and names at the DNS label limits', () => {
    const name = `a${'-'.repeat(61)}z`;
    const spec = parseSpecObject({ ...minimal, name, routes: [{ host: '*.apps.example.com' }] });
    assert.equal(spec.name.length, 63);
    assert.equal(spec.routes[0]?.host, '*.apps.example.com');
    assert.equal(parseSpecObject({ ...minimal, name: '0' }).name, '0');
  });
});

describe('berth/v1: each problem at its field path', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['name with capitals', { name: 'Hello' }, 'name: must be a DNS label: 1 to 63 lowercase letters, digits and "-", starting and ending with a letter or digit'],
    ['name ending in "-"', { name: 'hello-' }, 'name: must be a DNS label'],
    ['name of 64 characters', { name: 'a'.repeat(64) }, 'name: must be a DNS label'],
    ['empty name', { name: '' }, 'name: must be a DNS label'],
    ['name with "_"', { name: 'hello_world' }, 'name: must be a DNS label'],
    ['missing name', { name: undefined }, 'name: required'],
    ['image with spaces', { image: 'a b' }, 'image: must be an image reference like "registry.example.com/team/app:1.2": must not contain spaces or control characters'],
    ['empty image', { image: '' }, 'image: must be an image reference'],
    ['port 0', { port: 0 }, 'port: must be at least 1'],
    ['port 65536', { port: 65536 }, 'port: must be at most 65535'],
    ['fractional port', { port: 80.5 }, 'port: must be a whole number, not number 80.5'],
    ['port as text', { port: '8080' }, 'port: must be a number, not the string "8080"'],
    ['path without "/"', { routes: [{ path: 'session/x' }] }, 'routes[0].path: must start with "/"'],
    ['path with "?"', { routes: [{ path: '/a?b' }] }, 'routes[0].path: must not contain spaces, "?", "#" or NUL'],
    // Requests are routed on their normalised path: a prefix spelled otherwise could never match.
    ['path with an escaped unreserved character', { routes: [{ path: '/%41/' }] }, 'routes[0].path: would never match: requests are routed on their normalised path, so write it as "/A/"'],
    ['path with a lower-case escape', { routes: [{ path: '/a%2fb/' }] }, 'routes[0].path: would never match: requests are routed on their normalised path, so write it as "/a%2Fb/"'],
    ['path with a raw non-ASCII character', { routes: [{ path: '/café/' }] }, 'routes[0].path: no request can have this path (character 0xe9 in the request path); percent-encode it: "/caf%C3%A9/"'],
    ['path with ".."', { routes: [{ path: '/a/../b' }] }, 'routes[0].path: must not contain empty, "." or ".." segments'],
    ['path with "//"', { routes: [{ path: '/a//b' }] }, 'routes[0].path: must not contain empty, "." or ".." segments'],
    ['host with scheme', { routes: [{ host: 'http://a.example.com' }] }, 'routes[0].host: must be a host name like "app.example.com" or "*.apps.example.com", without scheme, port or path'],
    ['host with port', { routes: [{ host: 'a.example.com:80' }] }, 'routes[0].host: must be a host name'],
    ['wildcard in the middle', { routes: [{ host: 'a.*.example.com' }] }, 'routes[0].host: must be a host name'],
    ['route with neither host nor path', { routes: [{ stripPrefix: false }] }, 'routes[0]: needs a host, a path or both'],
    ['stripPrefix without path', { routes: [{ host: 'a.example.com', stripPrefix: true }] }, 'routes[0].stripPrefix: needs a path to strip'],
    ['empty routes', { routes: [] }, 'routes: must list at least one route; leave routes out for the default /session/<name>/'],
    ['same route twice', { routes: [{ path: '/a' }, { path: '/a/' }] }, 'routes[1]: same route as routes[0]'],
    ['host route twice', { routes: [{ host: 'A.example.com' }, { host: 'a.example.com', path: '/' }] }, 'routes[1]: same route as routes[0]'],
    ['env value null', { env: { A: null } }, 'env.A: must be a string, number or boolean'],
    ['env name with "="', { env: { 'A=B': 'x' } }, 'env["A=B"]: variable names must be non-empty and must not contain "="'],
    ['env as a list', { env: ['A=B'] }, 'env: must be a mapping, not a list'],
    ['relative volume', { volume: 'data' }, 'volume: must be an absolute path (start with "/")'],
    ['volume at "/"', { volume: '/' }, 'volume: must not be "/"'],
    ['a Unicode host', { routes: [{ host: 'bücher.example' }] }, 'routes[0].host: must be a host name like "app.example.com" or "*.apps.example.com", without scheme, port or path; write an internationalised name in its ASCII form: "xn--bcher-kva.example"'],
    ['a Unicode wildcard host', { routes: [{ host: '*.bücher.example' }] }, 'routes[0].host: must be a host name like "app.example.com" or "*.apps.example.com", without scheme, port or path; write an internationalised name in its ASCII form: "*.xn--bcher-kva.example"'],
    ['mount onto "/"', { mounts: [{ source: '/srv', target: '/' }] }, 'mounts[0].target: must not be "/"'],
    ['empty command', { command: [] }, 'command: must list at least 1 item'],
    ['command as a string', { command: 'node server.js' }, 'command: must be a list, not the string "node server.js"'],
    ['NUL in a command argument', { command: ['sh', '-c', 'x\0y'] }, 'command[2]: must not contain NUL: no program can receive it in an argument'],
    ['scale.min above scale.max', { scale: { min: 3, max: 2 } }, 'scale.min: must not be more than scale.max (2)'],
    ['negative scale.min', { scale: { min: -1 } }, 'scale.min: must be at least 0'],
    ['scale.max 0', { scale: { max: 0 } }, 'scale.max: must be at least 1'],
    ['idleTimeout without unit', { idleTimeout: '90' }, 'idleTimeout: "90" is not a duration (a unit is missing)'],
    ['idleTimeout 0', { idleTimeout: '0s' }, 'idleTimeout: must be longer than 0'],
    ['idleTimeout too long', { idleTimeout: '30d' }, 'idleTimeout: "30d" is too long: at most 24d20h31m23s'],
    ['idleTimeout true', { idleTimeout: true }, 'idleTimeout: must be a duration: use a number of seconds'],
    ['startTimeout negative', { startTimeout: -5 }, 'startTimeout: -5 is not a duration'],
    ['readiness path relative', { readiness: { path: 'healthz' } }, 'readiness.path: must start with "/" and contain no spaces'],
    ['memory unreadable', { resources: { memory: '1 gig' } }, 'resources.memory: "1 gig" is not a size'],
    ['memory below Docker minimum', { resources: { memory: '4m' } }, 'resources.memory: must be at least 6m (Docker refuses less)'],
    ['cpus 0', { resources: { cpus: 0 } }, 'resources.cpus: must be at least 0.01 (Docker refuses less)'],
    ['cpus below Docker minimum', { resources: { cpus: 0.001 } }, 'resources.cpus: must be at least 0.01 (Docker refuses less)'],
    ['cpus past any host', { resources: { cpus: 1e300 } }, 'resources.cpus: at most 1024 CPUs'],
    // As YAML and JSON parsers give it: an own key, which an assignment would turn into a prototype and drop.
    ['an env variable named __proto__', { env: JSON.parse('{"__proto__": "x", "A": "b"}') }, 'env.__proto__: "__proto__" cannot be used as a name here'],
    ['a label named __proto__', { labels: JSON.parse('{"__proto__": "x"}') }, 'labels.__proto__: "__proto__" cannot be used as a name here'],
    ['pids fractional', { resources: { pids: 1.5 } }, 'resources.pids: must be a whole number'],
    ['waiting unknown', { waiting: 'spin' }, 'waiting: must be one of "auto", "hold", "page"'],
    ['network with spaces', { network: 'my net' }, 'network: must be a Docker network name'],
    ['mount source relative', { mounts: [{ source: 'data', target: '/data' }] }, 'mounts[0].source: must be an absolute path (start with "/")'],
    ['mount without target', { mounts: [{ source: '/srv' }] }, 'mounts[0].target: required'],
    ['mount onto the volume', { volume: '/data', mounts: [{ source: '/srv', target: '/data/' }] }, 'mounts[0].target: already used by volume'],
    ['two mounts, one target', { mounts: [{ source: '/a', target: '/x' }, { source: '/b', target: '/x' }] }, 'mounts[1].target: already used by mounts[0].target'],
    ['berth.* label', { labels: { 'berth.app': 'x' } }, 'labels["berth.app"]: labels starting with "berth." are reserved for berth\'s own bookkeeping'],
    ['wrong apiVersion', { apiVersion: 'berth/v2' }, 'apiVersion: unsupported apiVersion "berth/v2": use "berth/v1" (or "v1" for an SWS service declaration)'],
  ];
  for (const [title, change, expected] of cases) {
    it(`refuses ${title}`, () => {
      const problems = problemsOf({ ...minimal, ...change });
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.ok(problems[0]!.startsWith(expected), `${problems[0]} does not start with ${expected}`);
    });
  }
});

describe('berth/v1: unknown fields', () => {
  it('refuses an unknown field at its own path and suggests the field meant', () => {
    assert.deepEqual(problemsOf({ ...minimal, idletimeout: '1m' }), ['idletimeout: unknown field (did you mean "idleTimeout"?)']);
    assert.deepEqual(problemsOf({ ...minimal, routes: [{ path: '/a', strip_prefix: true }] }), [
      'routes[0].strip_prefix: unknown field (did you mean "stripPrefix"?)',
    ]);
  });

  it('lists the allowed fields when nothing is close', () => {
    assert.deepEqual(problemsOf({ ...minimal, scale: { min: 0, count: 2 } }), ['scale.count: unknown field (allowed: min, max, replicas)']);
  });

  it('reports each unknown field of one object separately', () => {
    const problems = problemsOf({ ...minimal, resources: { memory: '1g', swap: '1g', gpus: 1 } });
    assert.deepEqual(problems.map((p) => p.split(':')[0]), ['resources.swap', 'resources.gpus']);
  });
});

describe('berth/v1: every problem at once', () => {
  it('lists all problems of one document, including the cross-field ones', () => {
    const problems = problemsOf({
      apiVersion: 'berth/v1',
      name: 'Bad_Name',
      image: '',
      port: 0,
      routes: [{ path: 'x' }, {}],
      scale: { min: 2, max: 1 },
      volume: '/data',
      mounts: [{ source: '/srv', target: '/data' }],
      extra: true,
    });
    const paths = problems.map((p) => p.slice(0, p.indexOf(':')));
    assert.deepEqual(paths.sort(), ['extra', 'image', 'mounts[0].target', 'name', 'port', 'routes[0].path', 'routes[1]', 'scale.min'].sort());
  });

  it('reports a missing apiVersion together with the other problems', () => {
    const { apiVersion: _, ...withoutVersion } = minimal;
    assert.deepEqual(problemsOf({ ...withoutVersion, port: 0 }), [
      'apiVersion: required: "berth/v1" (or "v1" for an SWS service declaration)',
      'port: must be at least 1',
    ]);
  });

  it('reports the required fields of an empty document', () => {
    assert.deepEqual(problemsOf({ apiVersion: 'berth/v1' }), ['name: required', 'image: required']);
  });

  it('refuses a document that is not a mapping', () => {
    assert.deepEqual(problemsOf(['hello']), ['(document): must be a mapping of fields (an app spec)']);
    assert.deepEqual(problemsOf('hello', 'apps[3]'), ['apps[3]: must be a mapping of fields (an app spec)']);
  });

  it('prefixes every path with `where`', () => {
    assert.deepEqual(problemsOf({ ...minimal, routes: [{ path: 'x' }] }, 'spec'), ['spec.routes[0].path: must start with "/"']);
    assert.deepEqual(problemsOf({ ...minimal, port: 0 }, 'apps[2]'), ['apps[2].port: must be at least 1']);
  });

  it('puts the problems in the SpecError message', () => {
    assert.throws(() => parseSpecObject({ ...minimal, port: 0 }, 'spec'), {
      name: 'SpecError',
      message: 'spec.port: must be at least 1',
    });
  });
});
