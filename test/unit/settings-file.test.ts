// The CLI's settings file holds the admin token: it is owner-only from the moment it exists,
// in an owner-only directory, never written through a name someone else prepared, and a
// save that fails half-way leaves the old file and no stray copy of the token.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { chmod, lstat, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { loadSaved, saveSettings } from '../../src/cli/settings.js';
import { ConfigError, exitCodeOf } from '../../src/errors.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-settings-file-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Replaces one of node:fs/promises' functions (the ESM bindings too) for the length of `body`. */
async function patched<K extends 'open' | 'rename'>(name: K, replacement: (typeof fs.promises)[K], body: () => Promise<void>): Promise<void> {
  const original = fs.promises[name];
  fs.promises[name] = replacement;
  syncBuiltinESMExports();
  try {
    await body();
  } finally {
    fs.promises[name] = original;
    syncBuiltinESMExports();
  }
}

it('the file is 0600 and empty when opened, before the token is written; the directory is made 0700 even if it was not', async () => {
  const file = join(dir, 'modes', 'berth', 'config.json');
  await saveSettings({ url: 'http://a:1', token: 'old' }, file);
  await chmod(join(dir, 'modes', 'berth'), 0o755);
  const seen: Array<{ mode: number; size: number }> = [];
  const open = fs.promises.open;
  await patched(
    'open',
    (async (...args: Parameters<typeof open>) => {
      const handle = await open(...args);
      const st = await handle.stat();
      seen.push({ mode: st.mode & 0o777, size: st.size });
      return handle;
    }) as typeof open,
    () => saveSettings({ url: 'http://a:1', token: 'b3rth-secret' }, file).then(() => undefined),
  );
  assert.deepEqual(seen, [{ mode: 0o600, size: 0 }], 'the draft is created owner-only, before any byte');
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.equal((await stat(join(dir, 'modes', 'berth'))).mode & 0o777, 0o700);
  assert.deepEqual(await loadSaved(file), { url: 'http://a:1', token: 'b3rth-secret' });
});

it('a link left at a temporary name is not written through: the token stays in the settings file', async () => {
  const home = join(dir, 'link', 'berth');
  const file = join(home, 'config.json');
  await saveSettings({ url: 'http://a:1', token: 'old' }, file);
  // The name the settings used to be drafted under (pid-based, so guessable), pointing elsewhere.
  const elsewhere = join(dir, 'elsewhere.txt');
  await writeFile(elsewhere, 'untouched\n', { mode: 0o644 });
  await symlink(elsewhere, `${file}.${process.pid}.tmp`);
  await saveSettings({ url: 'http://a:1', token: 'b3rth-secret' }, file);
  assert.equal(await readFile(elsewhere, 'utf8'), 'untouched\n');
  assert.equal((await lstat(file)).isFile(), true, 'the settings file is a file of its own, not a link');
  assert.deepEqual(await loadSaved(file), { url: 'http://a:1', token: 'b3rth-secret' });
});

it('a save that fails before the rename (a crash, a full disk) leaves the old file and no copy of the new token', async () => {
  const home = join(dir, 'crash', 'berth');
  const file = join(home, 'config.json');
  await saveSettings({ url: 'http://a:1', token: 'old' }, file);
  let renames = 0;
  await patched(
    'rename',
    (async () => {
      renames += 1;
      throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
    }) as typeof fs.promises.rename,
    // Named, with the reason in words, as a BerthError (exit 2, not 1 as for a bug of the CLI).
    () =>
      assert.rejects(saveSettings({ url: 'http://b:2', token: 'new-secret' }, file), (err: unknown) => {
        assert.ok(err instanceof ConfigError, String(err));
        assert.equal(err.message, `cannot save the settings to ${file}: the disk is full; the saved settings are as they were`);
        assert.equal(exitCodeOf(err), 2);
        return true;
      }),
  );
  assert.equal(renames, 1);
  assert.deepEqual(await loadSaved(file), { url: 'http://a:1', token: 'old' });
  assert.deepEqual(await readdir(home), ['config.json'], 'no draft holding the new token is left behind');
});
