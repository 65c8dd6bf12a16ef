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
