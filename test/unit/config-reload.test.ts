// A careless operator's reloads while the gateway serves: half-written saves, bad
// files, settings only a restart changes, a store failing mid-commit. Whole
// gateways on a real SQLite file and the fake engine (test/support/fake-gateway.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { mkdtemp } from 'node:fs/promises';
import { buildConfig, loadConfig } from '../../src/config/load-config.js';
import { halfWrittenProblem, logLevelFor, restartOnlyChanges } from '../../src/config/reload-changes.js';
import { httpGet } from '../support/gateway-harness.js';
import { FakeGatewayBed } from '../support/fake-gateway.js';
import { crashingStore } from '../support/crashing-store.js';
import { pino } from 'pino';

const HEAD = 'listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nstore: ./berth.db\npolicy:\n  images: ["fake/*"]\n';
const app = (name: string, tag = '1') => `  - {apiVersion: berth/v1, name: ${name}, image: "fake/${name}:${tag}", port: 8080, readiness: {path: /healthz}}\n`;
const GOOD = `${HEAD}apps:\n${app('web')}${app('shop')}`;

async function bedWith(text: string): Promise<FakeGatewayBed> {
  const bed = await FakeGatewayBed.create();
  await writeFile(join(bed.dir, 'berth.yaml'), text);
  return bed;
}

/** What the API shows of the config apps: name and image, sorted. */
async function apps(bed: FakeGatewayBed, gateway: Awaited<ReturnType<FakeGatewayBed['start']>>): Promise<string[]> {
  const r = await bed.api(gateway, 'GET', '/v1/apps');
  assert.equal(r.status, 200);
  const list: Array<{ name: string; spec: { image: string } }> = Array.isArray(r.json) ? r.json : r.json.apps;
  return list.map((a) => `${a.name} ${a.spec.image}`).sort();
}

const BEFORE = ['shop fake/shop:1', 'web fake/web:1'];

describe('a reload refuses what a careless save leaves behind, and changes nothing', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['an empty file (a save caught at 0 bytes)', '', /berth\.yaml is empty/],
    ['comments only', '# berth\n', /berth\.yaml is empty/],
    ['a file cut before its apps key', HEAD, /berth\.yaml has no apps key while 2 app\(s\)/],
    ['a file cut inside a flow mapping (YAML syntax error)', `${HEAD}apps:\n  - {apiVersion: berth/v1, name: web, ima`, /berth\.yaml.*line \d+/s],
    ['a misspelt field', `${HEAD}listn: 1\napps:\n${app('web')}`, /berth\.yaml.*listn/],
    ['one bad app among good ones', `${HEAD}apps:\n${app('web', '2')}  - {apiVersion: berth/v1, name: shop, image: "fake/shop:2", port: 99999}\n`, /apps\[1\].*port/],
    ['a policy narrowed so a running app is no longer allowed', `${HEAD.replace('fake/*', 'fake/web*')}apps:\n${app('web')}${app('shop')}`, /shop.*policy\.images/],
    ['a spec file that does not exist', `${HEAD}apps:\n  - ./apps/missing.yaml\n`, /apps\[0\].*missing\.yaml does not exist/],
  ];
  for (const [what, text, error] of cases) {
    it(what, async (t) => {
      const bed = await bedWith(GOOD);
      t.after(() => bed.dispose());
      const gateway = await bed.start();
      assert.equal((await httpGet(gateway.proxyAddress!.port, '/session/shop/')).status, 200);
      await writeFile(join(bed.dir, 'berth.yaml'), text);
      const outcome = await gateway.reload();
      assert.equal(outcome.applied, false);
      assert.match(outcome.error ?? '', error);
      assert.deepEqual(await apps(bed, gateway), BEFORE);
      // Still routed, and the running app kept its container.
      assert.equal(bed.runtime.running('shop').length, 1);
      assert.equal((await httpGet(gateway.proxyAddress!.port, '/session/web/')).status, 200);
    });
  }

  it('apps: [] written on purpose removes the config apps', async (t) => {
    const bed = await bedWith(GOOD);
    t.after(() => bed.dispose());
    const gateway = await bed.start();
    await writeFile(join(bed.dir, 'berth.yaml'), `${HEAD}apps: []\n`);
    assert.equal((await gateway.reload()).applied, true);
    assert.deepEqual(await apps(bed, gateway), []);
  });

  it('an atomic rename, a delete then a recreate: the missing file is refused, the recreated one applies', async (t) => {
    const bed = await bedWith(GOOD);
    t.after(() => bed.dispose());
    const gateway = await bed.start();
    await rm(join(bed.dir, 'berth.yaml'));
    const missing = await gateway.reload();
    assert.equal(missing.applied, false);
    assert.match(missing.error ?? '', /cannot read config .*berth\.yaml/);
    assert.deepEqual(await apps(bed, gateway), BEFORE);
    await writeFile(join(bed.dir, '.berth.yaml.tmp'), `${HEAD}apps:\n${app('web', '2')}`);
    await rename(join(bed.dir, '.berth.yaml.tmp'), join(bed.dir, 'berth.yaml'));
    assert.equal((await gateway.reload()).applied, true);
    assert.deepEqual(await apps(bed, gateway), ['web fake/web:2']);
  });
});

describe('a spec file caught mid-write is refused as the config file is', () => {
  const spec = (name: string, tag = '1') => `apiVersion: berth/v1\nname: ${name}\nimage: "fake/${name}:${tag}"\nport: 8080\nreadiness: {path: /healthz}\n`;
  for (const [what, entry, file] of [
    ['a spec file named in apps', './shop.yaml', 'shop.yaml'],
    ['a spec file in a directory named in apps', './apps/', 'apps/shop.yaml'],
  ] as const) {
    it(`${what}, emptied (0 bytes, then comments only): refused naming it and its app; the app keeps its container`, async (t) => {
      const bed = await bedWith(`${HEAD}apps:\n${app('web')}  - ${entry}\n`);
      t.after(() => bed.dispose());
      await mkdir(join(bed.dir, 'apps'));
      await writeFile(join(bed.dir, file), spec('shop'));
      const gateway = await bed.start();
      assert.equal((await httpGet(gateway.proxyAddress!.port, '/session/shop/')).status, 200);
      for (const text of ['', '# shop\n']) {
        await writeFile(join(bed.dir, file), text);
        const outcome = await gateway.reload();
        assert.equal(outcome.applied, false, `${JSON.stringify(text)} applied`);
        assert.match(outcome.error ?? '', new RegExp(`${file.replace('.', '\\.')}: declares no app while shop came from it`));
        assert.deepEqual(await apps(bed, gateway), BEFORE);
        assert.equal(bed.runtime.running('shop').length, 1);
      }
      // The save completed: applied.
      await writeFile(join(bed.dir, file), spec('shop', '2'));
      assert.equal((await gateway.reload()).applied, true);
      assert.deepEqual(await apps(bed, gateway), ['shop fake/shop:2', 'web fake/web:1']);
    });
  }

  it('an empty spec file that never declared an app is let be, and removing a file from apps removes its app', async (t) => {
    const bed = await bedWith(`${HEAD}apps:\n${app('web')}  - ./shop.yaml\n`);
    t.after(() => bed.dispose());
    await writeFile(join(bed.dir, 'shop.yaml'), spec('shop'));
    const gateway = await bed.start();
    await writeFile(join(bed.dir, 'berth.yaml'), `${HEAD}apps:\n${app('web')}  - ./later.yaml\n`);
    await writeFile(join(bed.dir, 'later.yaml'), '');
    assert.equal((await gateway.reload()).applied, true);
    assert.deepEqual(await apps(bed, gateway), ['web fake/web:1']);
  });
});

describe('what a reload cannot change is said', () => {
  it('a new listen, admin, workers or tls: applied for the rest, named as needing a restart, still served where it was', async (t) => {
    const bed = await bedWith(GOOD);
    t.after(() => bed.dispose());
    const gateway = await bed.start();
    const port = gateway.proxyAddress!.port;
    await writeFile(join(bed.dir, 'berth.yaml'), `${GOOD.replace('listen: 127.0.0.1:0', 'listen: 127.0.0.1:1').replace('admin: 127.0.0.1:0', 'admin: 127.0.0.1:2')}workers: 2\nlogLevel: debug\n`);
    const outcome = await gateway.reload();
    assert.equal(outcome.applied, true);
    assert.deepEqual(outcome.restartNeeded, ['listen', 'admin', 'workers']);
    assert.equal(gateway.proxyAddress!.port, port);
    assert.equal((await httpGet(port, '/session/web/')).status, 200);
  });

  it('a policy narrowed under an API app: the reload applies, names the app and why, and its running container runs on', async (t) => {
    const bed = await bedWith(GOOD);
    t.after(() => bed.dispose());
    const gateway = await bed.start();
    const created = await bed.api(gateway, 'POST', '/v1/apps', { apiVersion: 'berth/v1', name: 'notes', image: 'fake/notes:1', port: 8080, readiness: { path: '/healthz' } });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    assert.equal((await httpGet(gateway.proxyAddress!.port, '/session/notes/')).status, 200);
    await writeFile(join(bed.dir, 'berth.yaml'), GOOD.replace('"fake/*"', '"fake/web*", "fake/shop*"'));
    const outcome = await gateway.reload();
    assert.equal(outcome.applied, true);
    assert.deepEqual(outcome.policyRefused?.map((r) => r.app), ['notes']);
    assert.match(outcome.policyRefused![0]!.reason, /image "fake\/notes:1" of app "notes" is not allowed by policy\.images \(fake\/web\*, fake\/shop\*\)/);
    assert.equal(bed.runtime.running('notes').length, 1, 'a narrowed policy does not stop what runs');
    // Widened again: nothing to name.
    await writeFile(join(bed.dir, 'berth.yaml'), GOOD);
    assert.deepEqual((await gateway.reload()).policyRefused, []);
  });

  it('a policy narrowed while the gateway was down: the next start warns of each API app it refuses', async (t) => {
    const bed = await bedWith(GOOD);
    t.after(() => bed.dispose());
    const first = await bed.start();
    const created = await bed.api(first, 'POST', '/v1/apps', { apiVersion: 'berth/v1', name: 'notes', image: 'fake/notes:1', port: 8080 });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    await bed.stop(first);
    await writeFile(join(bed.dir, 'berth.yaml'), GOOD.replace('"fake/*"', '"fake/web*", "fake/shop*"'));
    const warnings: Array<{ app?: string; msg: string }> = [];
    await bed.start({ logger: pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line)) }) });
    const said = warnings.filter((w) => w.app === 'notes');
    assert.equal(said.length, 1, JSON.stringify(warnings));
    assert.match(said[0]!.msg, /app notes \(applied through the API\) is refused by the policy: .*no new container is made for it .*image "fake\/notes:1" of app "notes" is not allowed by policy\.images/);
  });

  it('restartOnlyChanges names each start-only field, and nothing for reloadable ones (table)', async () => {
    const base = await buildConfig({}, tmpdir());
    const rows: Array<[Record<string, unknown>, string[]]> = [
      [{}, []],
      [{ logLevel: 'debug', waitingPage: { title: 'x' }, defaults: { idleTimeout: '1m' }, policy: { images: ['x/*'] } }, []],
      [{ listen: '127.0.0.1:9' }, ['listen']],
      [{ store: './other.db' }, ['store']],
      [{ timeouts: { engine: '5s' }, trustedProxies: ['10.0.0.1'] }, ['timeouts', 'trustedProxies']],
      [{ tls: { listen: '127.0.0.1:8443' } }, ['tls']],
    ];
    for (const [raw, expected] of rows) assert.deepEqual(restartOnlyChanges(base, await buildConfig(raw, tmpdir())), expected, JSON.stringify(raw));
  });

  it('halfWrittenProblem (table)', async () => {
    const withApps = await buildConfig({ policy: { images: ['fake/*'] }, apps: [{ apiVersion: 'berth/v1', name: 'web', image: 'fake/web:1', port: 8080 }] }, tmpdir());
    const none = await buildConfig({}, tmpdir());
    assert.match(halfWrittenProblem(null, none) ?? '', /empty/);
    assert.match(halfWrittenProblem({}, none) ?? '', /empty/);
    assert.match(halfWrittenProblem({ listen: ':1' }, withApps) ?? '', /no apps key/);
    assert.equal(halfWrittenProblem({ listen: ':1' }, none), undefined);
    assert.equal(halfWrittenProblem({ apps: [] }, withApps), undefined);
  });
});

describe('a reload never ends the process', () => {
  it('a store failing while the reload commits: reload() resolves with the error, the next one applies', async (t) => {
    const bed = await bedWith(GOOD);
    t.after(() => bed.dispose());
    let crash!: ReturnType<typeof crashingStore>;
    let failing = true;
    bed.wrapStore = (store) => {
      crash = crashingStore(store, { method: 'applyApps', when: 'before' });
      return new Proxy(crash.store, { get: (target, key, receiver) => (failing ? Reflect.get(target, key, receiver) : Reflect.get(store, key)) });
    };
    const gateway = await bed.start();
    crash.arm();
    await writeFile(join(bed.dir, 'berth.yaml'), `${HEAD}apps:\n${app('web', '2')}`);
    const outcome = await gateway.reload();
    assert.equal(outcome.applied, false);
    assert.match(outcome.error ?? '', /killed/);
    failing = false;
    assert.equal((await gateway.reload()).applied, true);
    assert.deepEqual(await apps(bed, gateway), ['web fake/web:2']);
  });

  it('a burst of reloads while requests flow: every request answered, the last file wins', async (t) => {
    const bed = await bedWith(GOOD);
    t.after(() => bed.dispose());
    const gateway = await bed.start();
    const port = gateway.proxyAddress!.port;
    const requests: Array<Promise<number>> = [];
    const reloads: Array<Promise<unknown>> = [];
    for (let i = 0; i < 20; i++) {
      // Every other save is a half-written one.
      await writeFile(join(bed.dir, 'berth.yaml'), i % 2 ? '' : `${HEAD}apps:\n${app('web', String(i))}${app('shop')}`);
      reloads.push(gateway.reload());
      requests.push(httpGet(port, '/session/shop/').then((r) => r.status));
    }
    await Promise.all(reloads);
    assert.deepEqual(new Set(await Promise.all(requests)), new Set([200]));
    // Each queued reload reads the file as it is when its turn comes: some good save is in force, never an empty one.
    const shown = await apps(bed, gateway);
    assert.equal(shown[0], 'shop fake/shop:1');
    assert.match(shown[1] ?? '', /^web fake\/web:\d*[02468]$/);
    assert.equal(bed.runtime.running('shop').length, 1);
    // The save after the burst is the one in force.
    await writeFile(join(bed.dir, 'berth.yaml'), `${HEAD}apps:\n${app('web', 'last')}${app('shop')}`);
    assert.equal((await gateway.reload()).applied, true);
    assert.deepEqual(await apps(bed, gateway), ['shop fake/shop:1', 'web fake/web:last']);
  });

  it('a SIGHUP storm: the reloads asked while one waits its turn join it; one asked once it began runs after it', async (t) => {
    const bed = await bedWith(GOOD);
    t.after(() => bed.dispose());
    const lines: string[] = [];
    const gateway = await bed.start({ logger: pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line).msg) }) });
    const reloaded = () => lines.filter((m) => m === 'configuration reloaded').length;
    await writeFile(join(bed.dir, 'berth.yaml'), `${HEAD}apps:\n${app('web', '2')}${app('shop')}`);
    const storm = Array.from({ length: 200 }, () => gateway.reload());
    const outcomes = await Promise.all(storm);
    assert.ok(outcomes.every((o) => o.applied));
    assert.equal(reloaded(), 1, 'one reload for the whole storm');
    assert.deepEqual(await apps(bed, gateway), ['shop fake/shop:1', 'web fake/web:2']);
    // A save after a reload began is read by the next one, never lost to the one under way.
    const first = gateway.reload();
    await new Promise((resolve) => setImmediate(resolve));
    await writeFile(join(bed.dir, 'berth.yaml'), `${HEAD}apps:\n${app('web', '3')}${app('shop')}`);
    const second = gateway.reload();
    assert.notEqual(first, second);
    await Promise.all([first, second]);
    assert.deepEqual(await apps(bed, gateway), ['shop fake/shop:1', 'web fake/web:3']);
  });

  it('a reload while a cold start is in progress: the request waiting for it is answered, the app keeps its one container', async (t) => {
    const bed = await bedWith(GOOD);
    t.after(() => bed.dispose());
    bed.runtime.behave('shop', { startDelayMs: 400, readyAfterMs: 200 });
    const gateway = await bed.start();
    const waiting = httpGet(gateway.proxyAddress!.port, '/session/shop/');
    // The start is under way: a reload changes the other app and the policy's wording, not shop.
    await new Promise((resolve) => setTimeout(resolve, 100));
    await writeFile(join(bed.dir, 'berth.yaml'), `${HEAD}logLevel: debug\napps:\n${app('web', '2')}${app('shop')}`);
    assert.equal((await gateway.reload()).applied, true);
    assert.equal((await waiting).status, 200);
    assert.equal(bed.runtime.running('shop').length, 1);
  });
});

describe('a refused config file names the file, the field and its line', () => {
  const rows: Array<[string, RegExp]> = [
    ['listen: 1\nlistn: 2\n', /b\.yaml: listen: .*\(line 1\); \(root\): Unrecognized key: "listn" \(line 2\)/],
    ['listen: 127.0.0.1:0\ndefaults:\n  idleTimeout: abc\n', /b\.yaml: defaults\.idleTimeout: .*\(line 3\)/],
    ['timeouts:\n  engine: 0\n', /b\.yaml: timeouts\.engine: must be longer than 0 \(line 2\)/],
    ['policy:\n  images: ["fake/*"]\napps:\n  - {apiVersion: berth/v1, name: web, image: "fake/web:1", port: 8080}\n  - apiVersion: berth/v1\n    name: shop\n    image: "fake/shop:1"\n    port: 99999\n', /b\.yaml: apps\[1\]\.port: must be at most 65535 \(line 8\)/],
    // A missing apps source named neither the config file nor the line ("apps[0]: /…/missing does not exist").
    ['listen: 127.0.0.1:0\napps:\n  - ./missing/\n', /b\.yaml: apps\[0\]: \/.*\/missing does not exist \(line 3\)$/],
  ];
  for (const [text, expected] of rows) {
    it(JSON.stringify(text).slice(0, 60), async (t) => {
      const dir = await mkdtemp(join(tmpdir(), 'berth-cfgline-'));
      t.after(() => rm(dir, { recursive: true, force: true }));
      await writeFile(join(dir, 'b.yaml'), text);
      await assert.rejects(loadConfig(join(dir, 'b.yaml')), (err: Error) => {
        assert.match(err.message, expected);
        return true;
      });
    });
  }
});

describe('log level at reload', () => {
  it('logLevel set, changed, then removed: the gateway follows, and goes back to its start level (unless BERTH_LOG_LEVEL is set)', async (t) => {
    // The environment would win over the file: this test is about the file.
    const env = process.env.BERTH_LOG_LEVEL;
    delete process.env.BERTH_LOG_LEVEL;
    t.after(() => (env === undefined ? undefined : (process.env.BERTH_LOG_LEVEL = env)));
    const bed = await bedWith(GOOD);
    t.after(() => bed.dispose());
    const gateway = await bed.start();
    const logger = (gateway as unknown as { parts: { logger: { level: string } } }).parts.logger;
    const startLevel = logger.level;
    for (const [extra, level] of [['logLevel: debug\n', 'debug'], ['logLevel: warn\n', 'warn'], ['', startLevel]] as const) {
      await writeFile(join(bed.dir, 'berth.yaml'), `${extra}${GOOD}`);
      assert.equal((await gateway.reload()).applied, true);
      assert.equal(logger.level, level, `after ${JSON.stringify(extra)}`);
    }
  });

  it('logLevelFor (table)', () => {
    const rows: Array<[Parameters<typeof logLevelFor>, string]> = [
      [[undefined, undefined, 'info'], 'info'],
      [['debug', undefined, 'info'], 'debug'],
      [['debug', 'warn', 'info'], 'warn'],
      [[undefined, 'warn', 'info'], 'warn'],
      [[undefined, undefined, 'silent'], 'silent'],
    ];
    for (const [args, expected] of rows) assert.equal(logLevelFor(...args), expected, JSON.stringify(args));
  });
});
