// Config and spec files are read only when they are regular files of a bounded size. A
// FIFO among the specs (or a config named as one) blocked the start, or every reload after
// it, for good; a link to /dev/zero read until memory ran out; a 100 MB config was read and
// parsed whole on the event loop. Each is refused with one line naming the file and why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, MAX_SOURCE_FILE_BYTES } from '../../src/config/load-config.js';
import { ConfigError, SpecError } from '../../src/errors.js';

const SPEC = 'apiVersion: berth/v1\nname: web\nimage: fake/web:1\nport: 8080\n';

/** A temp dir with apps/web.yaml and berth.yaml naming ./apps/; removed after the test. */
async function configDir(t: { after(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-sources-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'apps'));
  await writeFile(join(dir, 'apps', 'web.yaml'), SPEC);
  await writeFile(join(dir, 'berth.yaml'), 'policy: {images: ["fake/*"]}\napps: [./apps/]\n');
  return dir;
}

/** Bounded: a FIFO or device read would hang or grow forever; this fails the test instead. */
function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`still reading after ${ms} ms`)), ms)));
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

test('a FIFO named as a spec among the apps is refused at once, naming it', async (t) => {
  const dir = await configDir(t);
  execFileSync('mkfifo', [join(dir, 'apps', 'pipe.yaml')]);
  await assert.rejects(within(10_000, loadConfig(join(dir, 'berth.yaml'))), (err: unknown) => {
    assert.ok(err instanceof SpecError, String(err));
    assert.match(err.message, /apps\/pipe\.yaml: cannot read: it is not a regular file \(a FIFO, a socket or a device\)/);
    return true;
  });
});

test('a directory named like a spec is refused naming it, not thrown as EISDIR', async (t) => {
  const dir = await configDir(t);
  await mkdir(join(dir, 'apps', 'old.yaml'));
  await assert.rejects(loadConfig(join(dir, 'berth.yaml')), (err: unknown) => err instanceof SpecError && /apps\/old\.yaml: cannot read: it is a directory/.test(err.message));
});

test('a config that is a FIFO, a link to /dev/zero, or over the bound is refused with one line', async (t) => {
  const dir = await configDir(t);
  execFileSync('mkfifo', [join(dir, 'fifo.yaml')]);
  await symlink('/dev/zero', join(dir, 'zero.yaml'));
  await writeFile(join(dir, 'big.yaml'), 'apps: []\n');
  await truncate(join(dir, 'big.yaml'), MAX_SOURCE_FILE_BYTES + 1);
  for (const [file, why] of [['fifo.yaml', 'it is not a regular file'], ['zero.yaml', 'it is not a regular file'], ['big.yaml', 'it is larger than 16 MiB']]) {
    await assert.rejects(within(10_000, loadConfig(join(dir, file!))), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.equal(err.message.split('\n').length, 1);
      assert.ok(err.message.startsWith(`cannot read config ${join(dir, file!)}: ${why}`), err.message);
      return true;
    });
  }
  // A link to a regular file (a Kubernetes ConfigMap is mounted so) is read as before.
  await symlink(join(dir, 'berth.yaml'), join(dir, 'linked.yaml'));
  const config = await loadConfig(join(dir, 'linked.yaml'));
  assert.deepEqual(config.apps.map((a) => a.name), ['web']);
});
