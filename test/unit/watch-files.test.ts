import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { watchFiles } from '../../src/cli/watch-files.js';

let dir = '';
before(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'berth-watch-'));
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** Resolves once `count()` passes `n`, or fails after 3 s (each wait bounded). */
async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 60; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** A rename-style save, as `sed -i` and most editors do it: write a temp file, rename it over the original. */
async function renameSave(path: string, text: string): Promise<void> {
  const temp = `${path}.tmp-${Date.now()}`;
  await fs.writeFile(temp, text);
  await fs.rename(temp, path);
}

describe('watchFiles', () => {
  it('sees two rename-style saves in a row, and each reload reads the new text', async () => {
    const file = join(dir, 'berth.yaml');
    await fs.writeFile(file, 'v1');
    const seen: string[] = [];
    const watch = watchFiles([file], () => void fs.readFile(file, 'utf8').then((t) => seen.push(t)));
    try {
      await renameSave(file, 'v2');
      await until('the first save', () => seen.includes('v2'));
      await renameSave(file, 'v3');
      await until('the second save', () => seen.includes('v3'));
    } finally {
      watch.close();
    }
  });

  it('ignores other files in the same directory, and follows a watched directory', async () => {
    const file = join(dir, 'only.yaml');
    const apps = join(dir, 'apps');
    await fs.mkdir(apps);
    await fs.writeFile(file, 'a');
    let changes = 0;
    const watch = watchFiles([file, apps], () => changes++);
    try {
      await fs.writeFile(join(dir, 'unrelated.txt'), 'x');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(changes, 0, 'a file not watched does not count');
      await renameSave(join(apps, 'web.yaml'), 'name: web');
      await until('a change in the watched directory', () => changes > 0);
    } finally {
      watch.close();
    }
  });
});
