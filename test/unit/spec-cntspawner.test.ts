import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpecError } from '../../src/errors.js';
import { parseCntSpawnerBody, parseSpecObject, parseSpecText } from '../../src/spec/parse.js';
import { parseTraefikRule } from '../../src/spec/traefik-rule.js';
import { PORT_FROM_IMAGE, type AppSpec } from '../../src/spec/types.js';

/** The POST /v1/ body exactly as the cntSpawner README (seed 000) shows it; create-minions.sh fills in $1. */
const seedBody = `
  {
  "name":"minion-$1",
  "network":"traefiknet",
  "image":"minionapp:latest",
  "labels": {
    "traefik.enable": "true",
    "traefik.http.routers.minion-$1.entrypoints": "web",
    "traefik.http.routers.minion-$1.rule":"PathPrefix(\\"/session/minion-$1/\\")"
  },
  "envs": {"CONNSTR":"db $1", "IDLE":"1m"}
  }
`;

function problemsOf(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    assert.ok(err instanceof SpecError, `expected SpecError, got ${String(err)}`);
    return err.problems.map((p) => `${p.path}: ${p.message}`);
  }
  assert.fail('the body was accepted');
}

const body = (change: Record<string, unknown>) => ({ name: 'minion-1', image: 'minionapp:latest', ...change });

describe('cntSpawner POST /v1/ bodies', () => {
  it('maps the seed body onto berth/v1', () => {
    const specs = parseSpecText(seedBody.replaceAll('$1', '1'), 'POST /v1/');
    const expected: AppSpec = {
      name: 'minion-1',
      image: 'minionapp:latest',
      // No port in the body: apply reads it from the image (gateway/image-ports.ts).
      port: PORT_FROM_IMAGE,
      routes: [{ path: '/session/minion-1/', stripPrefix: false }],
      // IDLE stays in the environment: the minion app reads it.
      env: { CONNSTR: 'db 1', IDLE: '1m' },
      network: 'traefiknet',
      idleTimeoutMs: 60_000,
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
      // Every label was traefik.*: they configured Traefik, which berth replaces.
      labels: {},
    };
    assert.deepEqual(specs, [expected]);
  });

  it('refuses the seed body with its shell placeholder left in, at the name', () => {
    assert.deepEqual(problemsOf(() => parseSpecText(seedBody, 'POST /v1/')), [
      'name: must be a DNS label: 1 to 63 lowercase letters, digits and "-", starting and ending with a letter or digit (line 3)',
    ]);
  });

  it('reads Host and PathPrefix joined by &&, and keeps non-Traefik labels', () => {
    const spec = parseSpecObject(
      body({
        labels: {
          'traefik.http.routers.m.rule': 'Host(`A.example.com`) && PathPrefix(`/m`)',
          'com.example.owner': 'team-a',
        },
      }),
    );
    assert.deepEqual(spec.routes, [{ host: 'a.example.com', path: '/m/', stripPrefix: false }]);
    assert.deepEqual(spec.labels, { 'com.example.owner': 'team-a' });
    assert.equal(spec.network, undefined);
  });

  it('takes the port from a Traefik service label, or from a port field', () => {
    const fromLabel = parseSpecObject(body({ labels: { 'traefik.http.services.m.loadbalancer.server.port': '8080' } }));
    assert.equal(fromLabel.port, 8080);
    assert.equal(parseCntSpawnerBody(body({ port: 3000 })).port, 3000);
  });

  it('accepts envs as Docker\'s list of NAME=value', () => {
    const spec = parseSpecObject(body({ envs: ['CONNSTR=db=1', 'IDLE=90s', 'EMPTY='] }));
    assert.deepEqual(spec.env, { CONNSTR: 'db=1', IDLE: '90s', EMPTY: '' });
    assert.equal(spec.idleTimeoutMs, 90_000);
  });

  it('collects the routes of several routers once each', () => {
    const spec = parseSpecObject(
      body({
        labels: {
          'traefik.http.routers.a.rule': 'PathPrefix(`/x/`) || Host(`x.example.com`)',
          'traefik.http.routers.b.rule': 'PathPrefix(`/x/`)',
        },
      }),
    );
    assert.deepEqual(spec.routes, [
      { path: '/x/', stripPrefix: false },
      { host: 'x.example.com', stripPrefix: false },
    ]);
  });

  it('takes a minimal body as cntSpawner when asked to', () => {
    const spec = parseCntSpawnerBody({ name: 'minion-2', image: 'minionapp:latest' });
    assert.deepEqual(spec.routes, [{ path: '/session/minion-2/', stripPrefix: false }]);
    assert.equal(spec.port, PORT_FROM_IMAGE);
    // No IDLE: the minion's own default (it stopped itself after 1m), not the gateway's defaults.idleTimeout.
    assert.equal(spec.idleTimeoutMs, 60_000);
  });

  const cases: Array<[string, Record<string, unknown>, string]> = [
    // An env value is text: the hint says what to write there, not "a number of seconds".
    ['a bad IDLE', { envs: { IDLE: '60' } }, 'envs.IDLE: IDLE: "60" is not a duration (a unit is missing): write "60s" for seconds, or "250ms", "5m", "1h30m"'],
    ['a bad IDLE in a list', { envs: ['A=1', 'IDLE=soon'] }, 'envs[1]: IDLE: "soon" is not a duration'],
    ['an envs entry without "="', { envs: ['A=1', 'B'] }, 'envs[1]: must be "NAME=value"'],
    ['an envs entry with an empty name', { envs: ['=x'] }, 'envs[0]: variable names must be non-empty'],
    ['a name set twice in envs', { envs: ['A=1', 'A=2'] }, 'envs[1]: A is set twice'],
    ['envs of the wrong type', { envs: 'A=1' }, 'envs: must be a mapping of NAME: value or a list of "NAME=value"'],
    ['an env value that is a mapping', { envs: { A: { b: 1 } } }, 'envs.A: must be a string, number or boolean'],
    ['a rule with Path()', { labels: { 'traefik.http.routers.m.rule': 'Path(`/x`)' } }, 'labels["traefik.http.routers.m.rule"]: Path(...) matches one exact path and berth routes by prefix: use PathPrefix(...)'],
    ['a rule with a relative prefix', { labels: { 'traefik.http.routers.m.rule': 'PathPrefix(`x`)' } }, 'labels["traefik.http.routers.m.rule"]: PathPrefix(`x`): must start with "/"'],
    ['a rule with a bad host', { labels: { 'traefik.http.routers.m.rule': 'Host(`a b`) && PathPrefix(`/x`)' } }, 'labels["traefik.http.routers.m.rule"]: Host(`a b`) && PathPrefix(`/x`): must be a host name'],
    ['a bad service port label', { labels: { 'traefik.http.services.m.loadbalancer.server.port': 'http' } }, 'labels["traefik.http.services.m.loadbalancer.server.port"]: must be a number, not the string "http"'],
    ['a berth.* label', { labels: { 'berth.app': 'x' } }, 'labels["berth.app"]: labels starting with "berth." are reserved'],
    ['an unknown field', { volumes: ['/x'] }, 'volumes: unknown field'],
    ['a bad network', { network: 'my net' }, 'network: must be a Docker network name'],
    ['no image', { image: undefined }, 'image: required'],
  ];
  for (const [title, change, expected] of cases) {
    it(`refuses ${title}`, () => {
      const problems = problemsOf(() => parseCntSpawnerBody(body(change)));
      assert.equal(problems.length, 1, problems.join('\n'));
      assert.ok(problems[0]!.startsWith(expected), `${problems[0]} does not start with ${expected}`);
    });
  }

  it('is recognised without apiVersion by its labels, envs or network', () => {
    assert.equal(parseSpecObject(body({ envs: {} })).name, 'minion-1');
    assert.equal(parseSpecObject(body({ network: 'traefiknet' })).network, 'traefiknet');
    // A berth/v1 spec that forgot its apiVersion is told so, not read as cntSpawner.
    assert.deepEqual(problemsOf(() => parseSpecObject({ ...body({ labels: {} }), routes: [] }))[0], 'apiVersion: required: "berth/v1" (or "v1" for an SWS service declaration)');
  });
});

describe('parseTraefikRule', () => {
  const valid: Array<[string, Array<{ host?: string; path?: string }>]> = [
    ['PathPrefix(`/session/minion-1/`)', [{ path: '/session/minion-1/' }]],
    ['PathPrefix("/session/minion-1/")', [{ path: '/session/minion-1/' }]],
    ['Host(`a.example.com`)', [{ host: 'a.example.com' }]],
    ['Host(`a.example.com`) && PathPrefix(`/x`)', [{ host: 'a.example.com', path: '/x' }]],
    ['PathPrefix(`/x`)&&Host(`a.example.com`)', [{ host: 'a.example.com', path: '/x' }]],
    ['Host(`a.example.com`) || Host(`b.example.com`)', [{ host: 'a.example.com' }, { host: 'b.example.com' }]],
    ['Host(`a.example.com`, `b.example.com`)', [{ host: 'a.example.com' }, { host: 'b.example.com' }]],
    ['Host(`a`, `b`) && PathPrefix(`/x`, `/y`)', [{ host: 'a', path: '/x' }, { host: 'a', path: '/y' }, { host: 'b', path: '/x' }, { host: 'b', path: '/y' }]],
    // && and || inside a quoted value are part of it: the rule was split before its values were read.
    ['PathPrefix(`/a&&b`)', [{ path: '/a&&b' }]],
    ['PathPrefix("/a||b") || Host(`c`)', [{ path: '/a||b' }, { host: 'c' }]],
    ['Host(`a`) && PathPrefix("/q\\"&&x")', [{ host: 'a', path: '/q"&&x' }]],
  ];
  for (const [rule, routes] of valid) {
    it(`reads ${rule}`, () => {
      const result = parseTraefikRule(rule);
      assert.ok(result.ok, result.ok ? '' : result.message);
      assert.deepEqual(result.routes.map(({ source: _, ...route }) => route), routes);
    });
  }

  const invalid: Array<[string, RegExp]> = [
    ['Path(`/x`)', /use PathPrefix/],
    ['HostRegexp(`{sub:[a-z]+}.example.com`)', /unsupported matcher HostRegexp/],
    ['Method(`GET`)', /unsupported matcher Method/],
    ['!Host(`a`)', /cannot read "!Host\(`a`\)"/],
    ['(Host(`a`) || Host(`b`)) && PathPrefix(`/x`)', /cannot read/],
    ['Host(`a`) && Host(`b`)', /Host\(\.\.\.\) appears twice/],
    ['Host()', /cannot read/],
    ['Host(a.example.com)', /cannot read/],
    // Escapes Go reads and JSON does not, and raw control characters: they threw a SyntaxError (a 500 at POST /v1/).
    ['Host("a\\x41.example.com")', /cannot read "Host\(.*: a value in double quotes has an escape .* write it in backticks$/],
    ['PathPrefix("/a\tb")', /write it in backticks$/],
    ['Host(`a`) && PathPrefix("\\u12")', /write it in backticks$/],
    ['', /cannot read/],
    ['PathPrefix(`/a&&b) && Host(`c`)', /cannot read/],
    // A huge rule is quoted in part, with its length: the message stays readable.
    [`Host(\`a\`) && ${'x'.repeat(100_000)}`, new RegExp(`^cannot read "${'x'.repeat(80)}… \\(100000 characters\\)":`)],
    [`${'M'.repeat(100_000)}(\`a\`)`, new RegExp(`^unsupported matcher ${'M'.repeat(80)}… \\(100000 characters\\)\\(`)],
  ];
  for (const [rule, message] of invalid) {
    it(`refuses ${JSON.stringify(rule)}`, () => {
      const result = parseTraefikRule(rule);
      assert.equal(result.ok, false);
      if (!result.ok) assert.match(result.message, message);
    });
  }
});

describe('cntSpawner: names that are also Object.prototype keys', () => {
  it('treats "constructor" and "toString" as ordinary names, not as already set', () => {
    const spec = parseCntSpawnerBody(body({ envs: ['constructor=1', 'toString=2'], labels: { toString: 'x' } }));
    assert.deepEqual(Object.entries(spec.env), [['constructor', '1'], ['toString', '2']]);
    assert.deepEqual(Object.entries(spec.labels), [['toString', 'x']]);
  });
});

describe('cntSpawner bodies at POST /v1/: "__proto__" names', () => {
  // JSON.parse gives "__proto__" as an own key; the maps skipped it, so the variable or label vanished without a word.
  for (const [field, body] of [
    ['envs', '{"name": "c1", "image": "berth-example/hello:1", "port": 8080, "envs": {"__proto__": "x", "A": "b"}}'],
    ['labels', '{"name": "c1", "image": "berth-example/hello:1", "port": 8080, "labels": {"__proto__": "x"}}'],
  ] as const) {
    it(`are refused in ${field}, naming where, as in every other form`, () => {
      assert.throws(
        () => parseCntSpawnerBody(JSON.parse(body), 'body'),
        (err: unknown) => err instanceof SpecError && err.problems.some((p) => p.path === `body.${field}.__proto__` && /"__proto__" cannot be used as a name here/.test(p.message)),
      );
    });
  }
});
