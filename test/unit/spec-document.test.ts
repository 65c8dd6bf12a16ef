// `berth get NAME --export` writes a spec back as a berth/v1 document: whatever form the app came
// in, the document must parse back to the same spec (the same specHash), so an export re-applied
// unedited is "unchanged". Checked over every spec the repo ships and generated ones.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { SpecError } from '../../src/errors.js';
import { exactDurationText, parseDuration } from '../../src/spec/duration.js';
import { withSpecDefaults } from '../../src/spec/normalize.js';
import { parseCntSpawnerBody, parseSpecObject, parseSpecText } from '../../src/spec/parse.js';
import { parseSize, sizeValue } from '../../src/spec/size.js';
import { specHash } from '../../src/spec/hash.js';
import { redactedVariables, specDocument, unwrittenFields } from '../../src/spec/spec-document.js';
import { specYamlText } from '../../src/spec/spec-yaml.js';
import type { AppSpec } from '../../src/spec/types.js';

const stringify = specYamlText;

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const read = (path: string) => readFileSync(resolve(root, path), 'utf8');

/** The spec parsed back from its document, as an object, as YAML text and as JSON text: all the same spec. */
function assertRoundTrip(spec: AppSpec, label: string): void {
  const doc = specDocument(spec);
  assert.equal(Object.keys(doc)[0], 'apiVersion', label);
  for (const [how, back] of [
    ['object', parseSpecObject(doc)],
    ['YAML', parseSpecText(stringify(doc), 'export.yaml')[0]],
    ['JSON', parseSpecText(JSON.stringify(doc, null, 2), 'export.json')[0]],
  ] as const) {
    assert.deepEqual(back, spec, `${label} (${how}): ${stringify(doc)}`);
    assert.equal(specHash(back!), specHash(spec), `${label} (${how})`);
  }
}

test('every example and seed spec comes back the same, the SWS and cntSpawner ones as berth/v1', () => {
  const files = ['examples/apps/hello.yaml', 'examples/api/whoami.yaml', 'examples/seeds/django-session.yaml', 'examples/seeds/sws-service.yaml'];
  const specs = files.flatMap((file) => parseSpecText(read(file), file).map((spec) => [spec, file] as const));
  specs.push([parseCntSpawnerBody(JSON.parse(read('examples/seeds/minion.json')) as unknown), 'examples/seeds/minion.json']);
  assert.equal(specs.length, 6);
  for (const [spec, file] of specs) assertRoundTrip(spec, `${file}: ${spec.name}`);
  // The compat forms go out as berth/v1: the minion's IDLE default is written, not left to the gateway.
  const minion = specDocument(specs.at(-1)![0]);
  assert.equal(minion.idleTimeout, '1m');
  assert.deepEqual(specDocument(specs.find(([s]) => s.name === 'sws-service')![0]), {
    apiVersion: 'berth/v1', name: 'sws-service', image: 'berth-example/hello:latest', port: 8080,
    routes: [{ host: 'sws.localhost' }], env: { GREETING: 'Hello from an SWS declaration' }, volume: '/data',
  });
});

test('a document as the README writes it comes out as it went in, defaults left out but its routes', () => {
  const text = read('examples/api/whoami.yaml').replace(/^#.*\n/gm, '');
  const [spec] = parseSpecText(text, 'whoami.yaml');
  assert.equal(stringify(specDocument(spec!)), text);
});

test('the specs an older berth stored (the PostgreSQL fixture) come back as the gateway reads them', () => {
  const dump = read('test/fixtures/pg-store-c5d1687/dump.sql');
  const stored = [...dump.matchAll(/^INSERT INTO public\.apps VALUES \('[^']*', '(\{.*?\})', /gm)].map((m) => JSON.parse(m[1]!) as AppSpec);
  assert.ok(stored.length >= 4, `specs in the dump: ${stored.length}`);
  for (const spec of stored) assertRoundTrip(withSpecDefaults(spec), `stored ${spec.name}`);
});

test('every field set, none at its default, comes back the same', () => {
  const [spec] = parseSpecText(
    `apiVersion: berth/v1
name: full
image: registry.example.com/team/full:1.2
port: 9000
routes:
  - {host: Full.Example.com, redirectHttps: false}
  - {path: /full, stripPrefix: true}
env: {A: "1", B: true, C: {fromFile: /run/secrets/c}, D: {fromEnv: GATEWAY_D}}
readiness: {path: /ready}
scale: {min: 1, max: 5, replicas: 3}
idleTimeout: 1h30m
startTimeout: 1500ms
timeouts: {connect: 2s, response: 90s}
volume: /data
command: [node, server.js, --flag]
input: {data: {b: [1, "2"], a: null}, as: url, env: IN_URL, path: /etc/in.json}
waiting: hold
waitingPage: {title: Wait, message: Starting}
queueSize: 7
balance: cookie
health: {path: /h, interval: 1m, timeout: 500ms, unhealthyThreshold: 5, healthyThreshold: 2}
strategy: {type: rolling, batchSize: 2}
dependsOn: [db, cache]
idleAction: pause
removeAfter: 1d
resources: {memory: 1.5g, cpus: 0.5, pids: 100}
network: backend
mounts: [{source: /srv/a, target: /a, readOnly: true}, {source: /srv/b, target: /b}]
security: {privileged: true, capAdd: [SYS_TIME, NET_ADMIN, NET_ADMIN], hostPid: true}
hsts: {maxAge: 400d, includeSubDomains: true, preload: true}
labels: {team: web, tier: 2}
`,
    'full.yaml',
  );
  assertRoundTrip(spec!, 'full');
  const doc = specDocument(spec!);
  assert.deepEqual(Object.keys(doc).slice(0, 8), ['apiVersion', 'name', 'image', 'port', 'routes', 'env', 'readiness', 'scale']);
  assert.equal(doc.idleTimeout, '90m');
  assert.deepEqual(doc.resources, { memory: '1536m', cpus: 0.5, pids: 100 });
  assert.deepEqual(doc.timeouts, { connect: '2s', response: '90s' });
  assert.equal(unwrittenFields(spec!).length, 0);
  const [host] = parseSpecText('apiVersion: berth/v1\nname: host\nimage: host:1\nport: 9100\nsecurity: {hostNetwork: true}\n', 'host.yaml');
  assertRoundTrip(host!, 'host network');
});

// The API shows a secret literal as the marker; the pure function never writes one either, and
// what it writes instead is refused by apply, naming the variable: never a placeholder applied.
test('a secret literal never goes out, and its marker cannot be applied back', () => {
  const [spec] = parseSpecText('apiVersion: berth/v1\nname: s\nimage: s:1\nport: 80\nenv: {PASSWORD: {secret: hunter2}, PLAIN: x}\n', 's.yaml');
  const doc = specDocument(spec!);
  assert.doesNotMatch(JSON.stringify(doc), /hunter2/);
  assert.deepEqual(doc.env, { PASSWORD: { secret: '<redacted>' }, PLAIN: 'x' });
  assert.deepEqual(redactedVariables(spec!), ['PASSWORD']);
  assert.throws(() => parseSpecObject(doc), (err: unknown) => err instanceof SpecError && err.problems.map((p) => p.path).join() === 'env.PASSWORD.secret');
  // Written back in, it is the same spec.
  assert.deepEqual(parseSpecObject({ ...doc, env: { ...(doc.env as object), PASSWORD: { secret: 'hunter2' } } }), spec);
});

// YAML folds long lines and writes newlines as block scalars: each must read back as written.
test('long, spaced and multi-line strings and awkward JSON numbers come back the same', () => {
  const long = 'word  two\tspaces  '.repeat(20) + ' trailing ';
  const spec = parseSpecObject({
    apiVersion: 'berth/v1', name: 'long', image: 'long:1', env: { L: long, M: ` ${long}` }, waitingPage: { message: long },
    command: ['a\nb\n', ' x ', 'line\r\nz', '\t', `${long}\n\n`], input: { data: { s: `${long}\n`, n: 1e21, f: 0.1, big: 12345678901234567890 } },
  });
  assertRoundTrip(spec, 'long strings');
});

// Spec text is read with YAML merge keys: a plain `<<:` key came back as "Merge sources must be maps".
test('a variable, label or input key named << is written so that it reads back as that name', () => {
  const spec = parseSpecObject({ apiVersion: 'berth/v1', name: 'm', image: 'm:1', env: { '<<': 'x' }, labels: { '<<': 'y' }, input: { data: { '<<': { '<<': 1 } } } });
  assertRoundTrip(spec, 'merge-key names');
  assert.match(stringify(specDocument(spec)), /^ {2}"<<": x$/m);
});

test('fields of a newer spec this berth does not know are named, not dropped silently', () => {
  const [spec] = parseSpecText('apiVersion: berth/v1\nname: n\nimage: n:1\n', 'n.yaml');
  assert.deepEqual(unwrittenFields({ ...spec!, sidecars: [] }), ['sidecars']);
});

test('durations go out as the shortest exact text, sizes as a whole count of a unit', () => {
  const durations: Array<[number, string]> = [
    [1, '1ms'], [500, '500ms'], [1000, '1s'], [1500, '1500ms'], [60_000, '1m'], [90_000, '90s'], [300_000, '5m'],
    [3_600_000, '1h'], [5_400_000, '90m'], [3_661_000, '3661s'], [86_401_000, '1d1s'], [86_400_000, '1d'], [90_000_000, '25h'], [2 ** 31 - 1, '2147483647ms'],
  ];
  for (const [ms, text] of durations) {
    assert.equal(exactDurationText(ms), text, String(ms));
    assert.equal(parseDuration(text), ms, text);
  }
  const sizes: Array<[number, string | number]> = [[1, 1], [1023, 1023], [1024, '1k'], [1536, 1536], [6 * 2 ** 20, '6m'], [1536 * 2 ** 20, '1536m'], [2 ** 30, '1g'], [2 ** 40, '1t'], [6 * 2 ** 20 + 1, 6 * 2 ** 20 + 1]];
  for (const [bytes, value] of sizes) {
    assert.equal(sizeValue(bytes), value, String(bytes));
    assert.equal(parseSize(sizeValue(bytes)), bytes, String(bytes));
  }
  fc.assert(fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (ms) => parseDuration(exactDurationText(ms)) === ms), { numRuns: 500 });
  fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 50 }), (bytes) => parseSize(sizeValue(bytes)) === bytes), { numRuns: 500 });
});

// Valid berth/v1 documents with any subset of fields set: what a user may write.
const duration = fc.oneof(fc.integer({ min: 1, max: 2 ** 31 - 1 }).map((ms) => `${ms}ms`), fc.integer({ min: 1, max: 1000 }), fc.constantFrom('1h30m', '90s', '1.5s', '0.5m', '2d'));
const name = fc.constantFrom('db', 'cache', 'queue');
const plain = fc.oneof(fc.constantFrom('null', 'true', 'yes', '~', '1e3', '0x1F', '0o17', '08', '2001-12-14', '- a', '#x', 'a: b', '"q"', "'", ' lead', '', '<<', '*x', '&a', '!t', '%x', '@x'), fc.string({ maxLength: 8 }).filter((s) => !/[\x00-\x08\x0a-\x1f\x7f]/.test(s) && s !== '<redacted>'), fc.integer(), fc.boolean());
const envValue = fc.oneof(plain, fc.constantFrom({ fromFile: '/run/s' }, { fromEnv: 'GW_VAR' }));
const document = fc.record(
  {
    port: fc.integer({ min: 1, max: 65535 }),
    routes: fc.uniqueArray(fc.record({ path: fc.constantFrom('/a', '/b/', '/c/d/'), stripPrefix: fc.boolean() }, { requiredKeys: ['path'] }), { minLength: 1, maxLength: 3, selector: (r) => r.path.replace(/\/$/, '') }),
    env: fc.dictionary(fc.constantFrom('A', 'B', 'C_D', 'x', '<<', 'null', 'true'), envValue, { maxKeys: 3 }),
    readiness: fc.record({ path: fc.constantFrom('/healthz', '/') }, { requiredKeys: [] }),
    scale: fc.tuple(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }), fc.boolean(), fc.boolean()).map(([min, plusReplicas, plusMax, withReplicas, withMax]) => {
      const replicas = Math.max(min, 1) + plusReplicas;
      return { min, ...(withReplicas ? { replicas } : {}), ...(withMax ? { max: (withReplicas ? replicas : Math.max(min, 1)) + plusMax } : {}) };
    }),
    idleTimeout: duration,
    startTimeout: duration,
    timeouts: fc.record({ connect: duration, response: duration }, { requiredKeys: [] }).filter((t) => Object.keys(t).length > 0),
    volume: fc.constant('/data'),
    command: fc.array(fc.string({ maxLength: 5 }).filter((s) => !s.includes('\0')), { minLength: 1, maxLength: 3 }),
    input: fc.record({ // A "__proto__" key is refused by the parser (forms.ts), so no spec has one.
    data: fc.jsonValue({ maxDepth: 2 }).filter((v) => !JSON.stringify(v).includes('"__proto__"')), as: fc.constantFrom('env', 'file', 'url'), env: fc.constantFrom('BERTH_INPUT', 'IN'), path: fc.constantFrom('/run/berth/input.json', '/in.json') }, { requiredKeys: ['data'] }),
    waiting: fc.constantFrom('auto', 'hold', 'page'),
    waitingPage: fc.record({ title: fc.constantFrom('T'), message: fc.constantFrom('M') }, { requiredKeys: [] }),
    queueSize: fc.integer({ min: 1, max: 1000 }),
    balance: fc.constantFrom('least-connections', 'round-robin', 'random-two', 'cookie'),
    health: fc.record({ path: fc.constant('/h'), interval: duration, timeout: duration, unhealthyThreshold: fc.integer({ min: 1, max: 9 }), healthyThreshold: fc.integer({ min: 1, max: 9 }) }, { requiredKeys: ['path'] }),
    strategy: fc.record({ type: fc.constantFrom('blue-green', 'rolling'), batchSize: fc.integer({ min: 1, max: 4 }) }, { requiredKeys: [] }),
    dependsOn: fc.uniqueArray(name, { maxLength: 3 }),
    idleAction: fc.constantFrom('stop', 'pause'),
    removeAfter: duration,
    resources: fc.record({ memory: fc.oneof(fc.constantFrom('6m', '1.5g', '512M', '1GiB'), fc.integer({ min: 6 * 2 ** 20, max: 2 ** 40 })), cpus: fc.constantFrom(0.01, 0.5, 2), pids: fc.integer({ min: 1, max: 1000 }) }, { requiredKeys: [] }),
    network: fc.constant('backend'),
    mounts: fc.uniqueArray(fc.record({ source: fc.constant('/srv/x'), target: fc.constantFrom('/a', '/b'), readOnly: fc.boolean() }, { requiredKeys: ['source', 'target'] }), { maxLength: 2, selector: (m) => m.target }),
    security: fc.record({ privileged: fc.boolean(), capAdd: fc.array(fc.constantFrom('NET_ADMIN', 'SYS_TIME'), { maxLength: 3 }), hostPid: fc.boolean() }, { requiredKeys: [] }),
    hsts: fc.record({ maxAge: fc.oneof(duration, fc.constantFrom('365d', '400d', '0.5s')), includeSubDomains: fc.boolean() }, { requiredKeys: [] }),
    labels: fc.dictionary(fc.constantFrom('team', 'tier', '<<'), fc.oneof(fc.string({ maxLength: 4 }).filter((s) => !/[\x00-\x08\x0a-\x1f\x7f]/.test(s)), fc.integer())),
  },
  { requiredKeys: [] },
);

test('generated berth/v1 documents: the export of what they parse to parses back to it', () => {
  fc.assert(
    fc.property(document, (fields) => {
      const spec = parseSpecObject({ apiVersion: 'berth/v1', name: 'gen', image: 'gen:1', ...fields });
      assertRoundTrip(spec, 'generated');
    }),
    { numRuns: 150 },
  );
});
