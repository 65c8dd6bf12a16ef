import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { watchFiles } from '../../src/cli/watch-files.js';
import { waitFor } from '../support/wait-for.js';

let dir = '';
before(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'berth-watch-'));
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** Resolves once `check()` holds, or fails after 3 s (each wait bounded). */
const until = (what: string, check: () => boolean) => waitFor(what, check, { timeoutMs: 3_000, intervalMs: 50 });

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

  it('sees a Kubernetes ConfigMap update: a new ..data renamed over the old, the config a link through it', async () => {
    // As the kubelet's atomic writer lays a ConfigMap volume out and updates it.
    const mount = join(dir, 'configmap');
    await fs.mkdir(join(mount, '..2026_01'), { recursive: true });
    await fs.writeFile(join(mount, '..2026_01', 'berth.yaml'), 'v1');
    await fs.symlink('..2026_01', join(mount, '..data'));
    await fs.symlink(join('..data', 'berth.yaml'), join(mount, 'berth.yaml'));
    const file = join(mount, 'berth.yaml');
    const seen: string[] = [];
    const watch = watchFiles([file], () => void fs.readFile(file, 'utf8').then((t) => seen.push(t)));
    try {
      await fs.mkdir(join(mount, '..2026_02'));
      await fs.writeFile(join(mount, '..2026_02', 'berth.yaml'), 'v2');
      await fs.symlink('..2026_02', join(mount, '..data_tmp'));
      await fs.rename(join(mount, '..data_tmp'), join(mount, '..data'));
      await fs.rm(join(mount, '..2026_01'), { recursive: true });
      await until('the swap of ..data', () => seen.includes('v2'));
    } finally {
      watch.close();
    }
  });

  it('follows a link to another directory: a rename-style save there is seen', async () => {
    const elsewhere = join(dir, 'elsewhere');
    await fs.mkdir(elsewhere);
    const target = join(elsewhere, 'real.yaml');
    await fs.writeFile(target, 'v1');
    const link = join(dir, 'linked.yaml');
    await fs.symlink(target, link);
    const seen: string[] = [];
    const watch = watchFiles([link], () => void fs.readFile(link, 'utf8').then((t) => seen.push(t)));
    try {
      await renameSave(target, 'v2');
      await until('the save behind the link', () => seen.includes('v2'));
    } finally {
      watch.close();
    }
  });

  it('a link loop or a dangling link is watched by its own name and does not throw', async () => {
    const loop = join(dir, 'loop.yaml');
    await fs.symlink('loop.yaml', loop);
    const dangling = join(dir, 'dangling.yaml');
    await fs.symlink('nowhere/none.yaml', dangling);
    let changes = 0;
    const watch = watchFiles([loop, dangling], () => changes++);
    try {
      await fs.rm(dangling);
      await fs.writeFile(dangling, 'now a file');
      await until('the dangling link replaced', () => changes > 0);
    } finally {
      watch.close();
    }
  });
});
