import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { InputSource } from '../../src/activator/input-source.js';
import { RuntimeError } from '../../src/errors.js';
import { handleBerthEndpoint } from '../../src/proxy/berth-endpoints.js';
import type { UpstreamSource } from '../../src/proxy/upstream.js';
/** Routes under which every app is reached (these tests are not about hosts). */
const everywhere = { reaches: () => true };
import { containerCreateOptions, effectiveResources } from '../../src/runtime/docker/container-config.js';
import { canonicalJson, containerSpecHash } from '../../src/spec/hash.js';
import { parseSpecObject } from '../../src/spec/parse.js';
import type { AppSpec } from '../../src/spec/types.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';

function app(name: string, extra: Record<string, unknown> = {}): AppSpec {
  return parseSpecObject({ apiVersion: 'berth/v1', name, image: 'berth-example/hello:latest', port: 8080, ...extra });
}

const env = (s: AppSpec, options = {}) => containerCreateOptions(s, 0, options).Env;

describe('input in the container config', () => {
  it('as env: the JSON in input.env (BERTH_INPUT by default), env kept sorted', () => {
    const s = app('a', { env: { Z: '1', A: '2' }, input: { data: { b: [1, 2], a: 'x' } } });
    assert.deepEqual(env(s), ['A=2', 'BERTH_INPUT={"a":"x","b":[1,2]}', 'Z=1']);
    assert.deepEqual(env(app('a', { input: { data: null, env: 'MY_INPUT' } })), ['MY_INPUT=null']);
  });

  it('input wins over a same-named variable of the spec', () => {
    assert.deepEqual(env(app('a', { env: { BERTH_INPUT: 'mine' }, input: { data: 1 } })), ['BERTH_INPUT=1']);
  });

  it('as file: only BERTH_INPUT_FILE, naming the path (the file is put in at create)', () => {
    assert.deepEqual(env(app('a', { input: { data: { a: 1 }, as: 'file' } })), ['BERTH_INPUT_FILE=/run/berth/input.json']);
    assert.deepEqual(env(app('a', { input: { data: 1, as: 'file', path: '/etc/app/in.json' } })), ['BERTH_INPUT_FILE=/etc/app/in.json']);
  });

  it('as url: the signed URL in input.env; refused without one', () => {
    const s = app('a', { input: { data: 1, as: 'url', env: 'INPUT_URL' } });
    assert.deepEqual(env(s, { inputUrl: 'http://10.0.0.1:8080/_berth/input/a?secret=abc' }), ['INPUT_URL=http://10.0.0.1:8080/_berth/input/a?secret=abc']);
    assert.throws(() => env(s), (err: unknown) => err instanceof RuntimeError && /input by URL/.test(err.message));
  });

  it('maps host.docker.internal to the host gateway only for a URL that uses it', () => {
    const s = app('a', { input: { data: 1, as: 'url' } });
    const hosts = (url: string, spec = s) => containerCreateOptions(spec, 0, { inputUrl: url }).HostConfig?.ExtraHosts;
    assert.deepEqual(hosts('http://host.docker.internal:8080/_berth/input/a?secret=x'), ['host.docker.internal:host-gateway']);
    assert.equal(hosts('http://172.17.0.1:8080/_berth/input/a?secret=x'), undefined);
    assert.equal(hosts('http://host.docker.internal:1/x', app('b', { input: { data: 1 } })), undefined);
  });

  it('sets no input variables without input', () => {
    assert.deepEqual(env(app('a')), []);
  });

  it('recreates the container when the input changes, and keeps older hashes when there is none', () => {
    const base = app('a');
    assert.equal(containerSpecHash(base), containerSpecHash({ ...base, input: undefined }));
    assert.notEqual(containerSpecHash(app('a', { input: { data: 1 } })), containerSpecHash(app('a', { input: { data: 2 } })));
    assert.notEqual(containerSpecHash(app('a', { input: { data: 1 } })), containerSpecHash(app('a', { input: { data: 1, as: 'file' } })));
  });
});

describe('resource defaults', () => {
  const defaults = { memoryBytes: 64 * 2 ** 20, cpus: 0.25, pids: 50 };

  it("merges field by field, the app's own value winning", () => {
    assert.deepEqual(effectiveResources({}, defaults), defaults);
    assert.deepEqual(effectiveResources({ cpus: 2 }, defaults), { ...defaults, cpus: 2 });
    assert.deepEqual(effectiveResources({ memoryBytes: 1, cpus: 1, pids: 1 }, defaults), { memoryBytes: 1, cpus: 1, pids: 1 });
    // What neither sets comes from the built-in limits (memory and PIDs, no CPU cap).
    assert.deepEqual(effectiveResources({ pids: 7 }), { memoryBytes: 512 * 2 ** 20, pids: 7 });
    assert.deepEqual(effectiveResources({}, {}), { memoryBytes: 512 * 2 ** 20, pids: 512 });
  });

  it('reaches HostConfig as Memory, NanoCpus and PidsLimit', () => {
    const host = (s: AppSpec) => containerCreateOptions(s, 0, { defaultResources: defaults }).HostConfig!;
    const h = host(app('a', { resources: { memory: '128m' } }));
    assert.equal(h.Memory, 128 * 2 ** 20);
    assert.equal(h.NanoCpus, 250_000_000);
    assert.equal(h.PidsLimit, 50);
    const none = containerCreateOptions(app('a'), 0).HostConfig!;
    assert.equal(none.Memory, 512 * 2 ** 20, 'built-in memory limit');
    assert.equal(none.NanoCpus, undefined, 'no built-in CPU cap');
    assert.equal(none.PidsLimit, 512, 'built-in PID limit');
  });

  it('does not change the spec hash label (defaults are the gateway’s, not the spec’s)', () => {
    const s = app('a');
    assert.equal(containerCreateOptions(s, 0, { defaultResources: defaults }).Labels?.['berth.spec-hash'], containerSpecHash(s));
  });
});

describe('InputSource', () => {
  const secret = randomBytes(32);
  const specs = new Map([
    ['url', app('url', { input: { data: { n: 1 }, as: 'url' } })],
    ['env', app('env', { input: { data: { n: 2 } } })],
    ['none', app('none')],
  ]);
  const source = new InputSource(secret, () => specs);
  /** The secret a container of `name` as it is in `specs` was given. */
  const given = (name: string) => source.urlSecret(name, specs.get(name)?.input?.json ?? '');

  it('signs each app with HMAC-SHA256(gateway secret, app name NUL input JSON), hex', () => {
    assert.equal(given('url'), createHmac('sha256', secret).update('url\0{"n":1}').digest('hex'));
    assert.match(given('url'), /^[0-9a-f]{64}$/);
    assert.notEqual(given('url'), given('env'));
    assert.notEqual(source.urlSecret('url', '{"n":1}'), source.urlSecret('url', '{"n":2}'));
    // The NUL keeps name and input apart: `a` with `b{}` is not `ab` with `{}`.
    assert.notEqual(source.urlSecret('a', 'b{}'), source.urlSecret('ab', '{}'));
    assert.notEqual(given('url'), new InputSource(randomBytes(32), () => specs).urlSecret('url', '{"n":1}'));
  });

  it('builds the URL under a base', () => {
    assert.equal(source.url('http://h:1', 'url', '{"n":1}'), `http://h:1/_berth/input/url?secret=${given('url')}`);
  });

  it('gives the JSON only for the right secret, and only to apps taking input by URL', () => {
    assert.equal(source.inputFor('url', given('url')), '{"n":1}');
    assert.equal(source.inputFor('url', given('env')), undefined);
    assert.equal(source.inputFor('url', ''), undefined);
    assert.equal(source.inputFor('url', given('url').slice(0, 63)), undefined);
    assert.equal(source.inputFor('url', given('url').toUpperCase()), undefined);
    assert.equal(source.inputFor('env', given('env')), undefined);
    assert.equal(source.inputFor('none', given('none')), undefined);
    assert.equal(source.inputFor('ghost', given('ghost')), undefined);
  });

  it('does not open an app made again under the same name with other input to the first one\'s URL', () => {
    const apps = new Map([['session-7', app('session-7', { input: { data: { user: 'alice', token: 'a-1' }, as: 'url' } })]]);
    const sessions = new InputSource(secret, () => apps);
    const alices = sessions.urlSecret('session-7', apps.get('session-7')!.input!.json);
    assert.deepEqual(JSON.parse(sessions.inputFor('session-7', alices)!), { user: 'alice', token: 'a-1' });
    // alice's session is deleted, and the name given to bob's.
    apps.set('session-7', app('session-7', { input: { data: { user: 'bob', token: 'b-2' }, as: 'url' } }));
    assert.equal(sessions.inputFor('session-7', alices), undefined);
    const bobs = sessions.urlSecret('session-7', apps.get('session-7')!.input!.json);
    assert.deepEqual(JSON.parse(sessions.inputFor('session-7', bobs)!), { user: 'bob', token: 'b-2' });
    // Made again with the very input alice had: her URL opens what she holds already.
    apps.set('session-7', app('session-7', { input: { data: { user: 'alice', token: 'a-1' }, as: 'url' } }));
    assert.deepEqual(JSON.parse(sessions.inputFor('session-7', alices)!), { user: 'alice', token: 'a-1' });
  });

  it('makes containers taking input by URL anew: their old URL no longer opens the input', () => {
    const s = app('url', { input: { data: { n: 1 }, as: 'url' } });
    // The hash as it was before the input was signed: the container-shaping fields alone.
    const fields = ['name', 'image', 'port', 'env', 'volume', 'command', 'resources', 'network', 'mounts', 'labels', 'input'] as const;
    const shape = Object.fromEntries(fields.map((k) => [k, s[k]]));
    const before = createHash('sha256').update(canonicalJson(shape)).digest('hex').slice(0, 16);
    assert.notEqual(containerSpecHash(s), before);
    // Other ways of giving input keep their hashes.
    const e = app('env', { input: { data: { n: 2 } } });
    const eShape = Object.fromEntries(fields.map((k) => [k, e[k]]));
    assert.equal(containerSpecHash(e), createHash('sha256').update(canonicalJson(eShape)).digest('hex').slice(0, 16));
  });
});

describe('GET /_berth/input/<app>', () => {
  const source = new InputSource(randomBytes(32), () => new Map([['app', app('app', { input: { data: { hello: 'wörld' }, as: 'url' } })]]));
  let server: Server;
  let base: string;
  let withInput = true;

  before(async () => {
    server = createServer((req, res) => {
      const upstreams = { publicStatus: (a: string) => (a === 'app' ? { state: 'stopped', ready: false } : undefined) } as unknown as UpstreamSource;
      if (withInput) upstreams.inputFor = (a, s) => source.inputFor(a, s);
      handleBerthEndpoint(req, res, upstreams, everywhere, '127.0.0.1');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it('answers the JSON with the right secret', async () => {
    const res = await fetch(`${base}/_berth/input/app?secret=${source.urlSecret('app', '{"hello":"wörld"}')}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.deepEqual(await res.json(), { hello: 'wörld' });
  });

  it('answers 403 to a wrong or missing secret and to an unknown app alike', async () => {
    for (const path of ['/_berth/input/app?secret=nope', '/_berth/input/app', `/_berth/input/other?secret=${source.urlSecret('app', '{"hello":"wörld"}')}`]) {
      const res = await fetch(base + path);
      assert.equal(res.status, 403, path);
      assert.equal(res.headers.get('content-type'), 'application/problem+json');
      assert.equal((await res.json()).code, 'forbidden');
    }
  });

  it('still serves the status endpoint, and 404 for other verbs, methods and bad escapes', async () => {
    assert.equal((await fetch(`${base}/_berth/status/app`)).status, 200);
    assert.equal((await fetch(`${base}/_berth/nothing/app`)).status, 404);
    assert.equal((await fetch(`${base}/_berth/input/app?secret=x`, { method: 'POST' })).status, 404);
    assert.equal((await fetch(`${base}/_berth/status/%E0%A4%A`)).status, 404);
  });

  it('is 404 when the upstream source serves no input', async () => {
    withInput = false;
    try {
      assert.equal((await fetch(`${base}/_berth/input/app?secret=${source.urlSecret('app', '{"hello":"wörld"}')}`)).status, 404);
    } finally {
      withInput = true;
    }
  });
});

describe('store: gateway secrets', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-secret-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('makes a 32-byte secret once and keeps it across reopen; keys are separate', async () => {
    const path = join(dir, 'berth.db');
    const store = new SqliteStore({ path });
    await store.open();
    const first = await store.getOrCreateSecret('input');
    assert.equal(first.length, 32);
    assert.deepEqual(await store.getOrCreateSecret('input'), first);
    assert.notDeepEqual(await store.getOrCreateSecret('other'), first);
    await store.close();
    const again = new SqliteStore({ path });
    await again.open();
    assert.deepEqual(await again.getOrCreateSecret('input'), first);
    await again.close();
  });
});
