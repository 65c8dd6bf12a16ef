// `berth serve` on a data dir it cannot write, as a real mount (a small tmpfs): read-only,
// or full. The store lock is the first thing written there; its failure used to end the
// start with a bare errno about a lock draft (`EROFS: read-only file system, open
// '…/berth.db.lock.1a2b.new'`, exit 1), and a full disk left that 0-byte draft behind.
// Now it is the store's own refusal: named, with why, exit 6, nothing left behind.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BerthError } from '../../src/errors.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';
import { appSpec } from '../support/spec-fixture.js';

const BERTH_BIN = fileURLToPath(new URL('../../../bin/berth.js', import.meta.url));

/** Runs `berth serve` on a config whose store is `store`; its exit code and stderr (bounded at 20 s). */
function serve(dir: string, store: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const config = join(dir, 'berth.yaml');
    writeFile(config, `listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nstore: ${store}\nappsNetwork: none\n`).then(() => {
      const child = spawn(process.execPath, [BERTH_BIN, 'serve', '--config', config, '--no-watch'], {
        cwd: dir,
        env: { ...process.env, BERTH_ADMIN_TOKEN: 'disk-test-token', BERTH_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, stderr });
      });
    }, reject);
  });
}

describe('a data dir berth cannot write, at start', () => {
  let dir: string;
  const mounts: string[] = [];
  const mountTmpfs = async (name: string, options: string) => {
    const at = join(dir, name);
    await mkdir(at);
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', at]);
    mounts.push(at);
    return at;
  };
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-disk-'));
  });
  after(async () => {
    for (const at of mounts) execFileSync('umount', [at]);
    await rm(dir, { recursive: true, force: true });
  });

  test('read-only: refused naming the store and the read-only file system, exit 6', { timeout: 30_000 }, async () => {
    const data = await mountTmpfs('ro', 'ro,size=256k');
    const store = join(data, 'berth.db');
    const { code, stderr } = await serve(dir, store);
    assert.equal(code, 6, stderr);
    assert.match(stderr, new RegExp(`^berth: store at ${store} cannot be opened: the file system is read-only`), stderr);
    assert.match(stderr, /Mount it read-write/);
  });

  test('full: refused naming the store and the full disk, exit 6, no lock draft left behind', { timeout: 30_000 }, async () => {
    const data = await mountTmpfs('full', 'size=64k');
    // Fills it: writes until the kernel refuses.
    await writeFile(join(data, 'filler'), Buffer.alloc(128 * 1024)).catch((err: NodeJS.ErrnoException) => assert.equal(err.code, 'ENOSPC'));
    const store = join(data, 'berth.db');
    const { code, stderr } = await serve(dir, store);
    assert.equal(code, 6, stderr);
    assert.match(stderr, new RegExp(`^berth: store at ${store} cannot be opened: the disk is full`), stderr);
    assert.deepEqual(await readdir(data), ['filler']);
  });
});

// The disk of a running gateway's store fills up. An apply used to fail as a 500 store_error
// ("database or disk is full"), as if berth had a bug; it is the surroundings, and passes:
// 503 store_unavailable with the reason, nothing changed, and all well once there is room.
describe('the data dir fills up while the store is open', () => {
  let dir: string;
  let data = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-diskfull-'));
    data = join(dir, 'data');
    await mkdir(data);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', data]);
  });
  after(async () => {
    execFileSync('umount', [data]);
    await rm(dir, { recursive: true, force: true });
  });

  test('apply and delete fail as store_unavailable saying the disk is full and change nothing; once there is room, both work', { timeout: 30_000 }, async (t) => {
    const path = join(data, 'berth.db');
    const store = new SqliteStore({ path });
    await store.open();
    t.after(() => store.close());
    await store.applyApps([appSpec('web')], 'api');
    const filler = join(data, 'filler');
    await writeFile(filler, Buffer.alloc(4 * 1024 * 1024)).catch((err: NodeJS.ErrnoException) => assert.equal(err.code, 'ENOSPC'));
    const full = (what: string) => (err: unknown) => {
      assert.ok(err instanceof BerthError);
      assert.equal(err.code, 'store_unavailable', err.message);
      assert.ok(err.message.startsWith(`store at ${path}: cannot ${what}: the disk is full`), err.message);
      return true;
    };
    const big = appSpec('web', { env: { FILL: 'x'.repeat(200_000) } });
    await assert.rejects(store.applyApps([big, appSpec('new', { env: { FILL: 'y'.repeat(200_000) } })], 'api'), full('apply apps'));
    await assert.rejects(store.deleteApp('web'), full('delete app "web"'));
    assert.deepEqual((await store.listApps()).map((a) => [a.name, a.revision]), [['web', 1]]);
    await rm(filler);
    assert.deepEqual((await store.applyApps([big], 'api')).map((r) => [r.app.name, r.app.revision]), [['web', 2]]);
    assert.equal(await store.deleteApp('web'), true);
  });
});
