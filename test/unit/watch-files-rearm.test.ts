// A directory deleted and made again (`rm -rf apps && cp -r new-apps apps`, rsync, a
// deploy tool) took its inotify watch with it: edits made afterwards went unseen until
// a SIGHUP. So did a spec directory that did not exist yet when the watch began. Real
// directories; each wait bounded.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, promises as fs, renameSync, watch as fsWatch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { watchFiles, type OpenWatch } from '../../src/cli/watch-files.js';
import { eventAction, samePlan, watchPlan } from '../../src/cli/watch-plan.js';
import { waitFor } from '../support/wait-for.js';

let dir = '';
before(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'berth-rearm-'));
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** Resolves once `check()` holds, or fails after 3 s (each wait bounded). */
const until = (what: string, check: () => boolean) => waitFor(what, check, { timeoutMs: 3_000, intervalMs: 50 });

/** The count once it stayed the same for 150 ms (3 s at most): events of a step still arriving are let in first. */
async function settled(read: () => number): Promise<number> {
  let last = read();
  for (let stable = 0, i = 0; stable < 3 && i < 60; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const now = read();
    stable = now === last ? stable + 1 : 0;
    last = now;
  }
  return last;
}

/** fs.watch, counting the watches open now. */
function countingWatch(): { open: OpenWatch; count: () => number } {
  let open = 0;
  return {
    count: () => open,
    open: (path, onEvent) => {
      const w = fsWatch(path, { persistent: false }, (_e, f) => onEvent(f === null ? null : String(f)));
      w.on('error', () => undefined);
      open++;
      let closed = false;
      return {
        close: () => {
          if (!closed) open--;
          closed = true;
          w.close();
        },
      };
    },
  };
}

describe('watchFiles after a directory is deleted and made again', () => {
  it('a spec directory replaced (rm -rf, then cp -r) eight times: each later edit is seen, the watches stay as many', async () => {
    const apps = join(dir, 'apps');
    const staged = join(dir, 'staged');
    await fs.mkdir(apps);
    await fs.mkdir(staged);
    await fs.writeFile(join(staged, 'web.yaml'), 'name: web');
    let changes = 0;
    const counting = countingWatch();
    const watch = watchFiles([join(dir, 'berth.yaml'), apps], () => changes++, counting.open);
    try {
      const planned = counting.count();
      for (let round = 0; round < 8; round++) {
        await fs.rm(apps, { recursive: true });
        await fs.cp(staged, apps, { recursive: true });
        await settled(() => changes);
        const before = changes;
        await fs.writeFile(join(apps, 'web.yaml'), `name: web # ${round}`);
        await until(`the edit after replacement ${round + 1}`, () => changes > before);
        assert.ok(counting.count() <= planned, `watches open after round ${round + 1}: ${counting.count()} (planned ${planned})`);
      }
    } finally {
      watch.close();
    }
    assert.equal(counting.count(), 0, 'close leaves no watch open');
  });

  it("the config file's own directory deleted and made again: a save of the config there is seen", async () => {
    const conf = join(dir, 'conf');
    await fs.mkdir(conf);
    const file = join(conf, 'berth.yaml');
    await fs.writeFile(file, 'v1');
    let changes = 0;
    const watch = watchFiles([file], () => changes++);
    try {
      await fs.rm(conf, { recursive: true });
      await fs.mkdir(conf);
      await settled(() => changes);
      const before = changes;
      await fs.writeFile(file, 'v2');
      await until('the save in the new directory', () => changes > before);
    } finally {
      watch.close();
    }
  });

  it('a spec directory that does not exist yet (named by a refused reload): made, then a file written in it, both seen', async () => {
    const later = join(dir, 'later', 'apps');
    let changes = 0;
    const watch = watchFiles([later], () => changes++);
    try {
      await fs.mkdir(later, { recursive: true });
      await until('the directory made', () => changes > 0);
      const before = await settled(() => changes);
      await fs.writeFile(join(later, 'shop.yaml'), 'name: shop');
      await until('the file written in it', () => changes > before);
    } finally {
      watch.close();
    }
  });

  it('the second mv landing while the watches of the first are being opened (a busy machine): an edit in the directory moved in is still seen', async () => {
    const apps = join(dir, 'raced');
    await fs.mkdir(apps);
    await fs.mkdir(join(dir, 'raced-new'));
    let changes = 0;
    let raced = false;
    // The plan made after `mv raced raced-old` has no `raced`; the `mv raced-new raced` lands just before the parent's
    // watch opens, so no watch sees it (on CI this came by itself now and then, and the edit was never seen).
    const racing: OpenWatch = (path, onEvent) => {
      if (path === dir && !raced && !existsSync(apps)) {
        raced = true;
        renameSync(join(dir, 'raced-new'), apps);
      }
      const w = fsWatch(path, { persistent: false }, (_e, f) => onEvent(f === null ? null : String(f)));
      w.on('error', () => undefined);
      return w;
    };
    const watch = watchFiles([apps], () => changes++, racing);
    try {
      await fs.rename(apps, join(dir, 'raced-old'));
      await until('the second mv, made as the watches opened', () => raced);
      const before = await settled(() => changes);
      await fs.writeFile(join(apps, 'a.yaml'), 'name: a');
      await until('the edit in the directory moved in', () => changes > before);
    } finally {
      watch.close();
    }
  });

  it('a directory moved away and another moved in its place (mv apps old; mv new apps): an edit in the new one is seen', async () => {
    const apps = join(dir, 'moved');
    await fs.mkdir(apps);
    await fs.mkdir(join(dir, 'moved-new'));
    let changes = 0;
    const watch = watchFiles([apps], () => changes++);
    try {
      await fs.rename(apps, join(dir, 'moved-old'));
      await fs.rename(join(dir, 'moved-new'), apps);
      const before = await settled(() => changes);
      await fs.writeFile(join(apps, 'a.yaml'), 'name: a');
      await until('the edit in the directory moved in', () => changes > before);
      const after = await settled(() => changes);
      await fs.writeFile(join(dir, 'moved-old', 'b.yaml'), 'name: b');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(changes, after, 'the directory moved away is no longer watched');
    } finally {
      watch.close();
    }
  });
});

describe('watchFiles on a directory reached through a link', () => {
  it('the link switched to another release (ln -sfn, as deploy tools do): an edit in the new release is seen, none in the old', async () => {
    const releases = join(dir, 'releases');
    await fs.mkdir(join(releases, 'v1'), { recursive: true });
    await fs.mkdir(join(releases, 'v2'));
    const apps = join(dir, 'current-apps');
    await fs.symlink(join(releases, 'v1'), apps);
    let changes = 0;
    const watch = watchFiles([apps], () => changes++);
    try {
      await fs.symlink(join(releases, 'v2'), `${apps}.tmp`);
      await fs.rename(`${apps}.tmp`, apps);
      await until('the switch', () => changes > 0);
      const before = await settled(() => changes);
      await fs.writeFile(join(releases, 'v2', 'web.yaml'), 'name: web');
      await until('the edit in the new release', () => changes > before);
      const after = await settled(() => changes);
      await fs.writeFile(join(releases, 'v1', 'web.yaml'), 'name: old');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(changes, after, 'the old release is no longer watched');
    } finally {
      watch.close();
    }
  });
});

describe('watchPlan and eventAction (table)', () => {
  const dirs = new Set(['/', '/srv', '/srv/conf', '/srv/conf/apps']);
  const probe = { isDirectory: (p: string) => dirs.has(p), hops: (p: string): Array<[string, string]> => [[p.slice(0, p.lastIndexOf('/')) || '/', p.slice(p.lastIndexOf('/') + 1)]] };

  it('plans a directory whole and by name, a file by name, and a missing directory from its nearest existing ancestor', () => {
    const plan = watchPlan(['/srv/conf/berth.yaml', '/srv/conf/apps', '/srv/gone/deeper/apps/x.yaml'], probe);
    assert.deepEqual([...plan.entries()].map(([d, w]) => [d, w.all, [...w.names]]), [
      ['/srv/conf', false, [['berth.yaml', false], ['apps', true]]],
      ['/srv/conf/apps', true, []],
      ['/srv', false, [['gone', false]]],
    ]);
  });

  it('re-plans on the directory itself, on an entry that is or was a directory, and on no name; else a change or nothing', () => {
    const watch = { all: false, names: new Map([['berth.yaml', false], ['..data', true], ['apps', false]]) };
    const isDir = (p: string) => p === '/srv/conf/apps';
    assert.equal(eventAction('/srv/conf', watch, 'conf', isDir), 'replan');
    assert.equal(eventAction('/srv/conf', watch, null, isDir), 'replan');
    assert.equal(eventAction('/srv/conf', watch, '..data', isDir), 'replan');
    assert.equal(eventAction('/srv/conf', watch, 'apps', isDir), 'replan');
    assert.equal(eventAction('/srv/conf', watch, 'berth.yaml', isDir), 'change');
    assert.equal(eventAction('/srv/conf', watch, 'other.txt', isDir), 'ignore');
    assert.equal(eventAction('/srv/conf', { all: true, names: new Map() }, 'other.txt', isDir), 'change');
  });
});

describe('samePlan', () => {
  it('tells plans apart by directory, by whole or named watch, by name and by what a name was planned as', () => {
    const plan = (dirs: Array<[string, boolean, Array<[string, boolean]>]>) => new Map(dirs.map(([d, all, names]) => [d, { all, names: new Map(names) }]));
    const base = plan([['/c', false, [['berth.yaml', false]]], ['/c/apps', true, []]]);
    const table: Array<[string, ReturnType<typeof plan>, boolean]> = [
      ['the same', plan([['/c', false, [['berth.yaml', false]]], ['/c/apps', true, []]]), true],
      ['a directory fewer', plan([['/c', false, [['berth.yaml', false]]]]), false],
      ['another directory', plan([['/c', false, [['berth.yaml', false]]], ['/c/apps2', true, []]]), false],
      ['named, not whole', plan([['/c', false, [['berth.yaml', false]]], ['/c/apps', false, []]]), false],
      ['a name more', plan([['/c', false, [['berth.yaml', false], ['apps', true]]], ['/c/apps', true, []]]), false],
      ['a name now a directory', plan([['/c', false, [['berth.yaml', true]]], ['/c/apps', true, []]]), false],
    ];
    for (const [what, other, same] of table) {
      assert.equal(samePlan(base, other), same, what);
      assert.equal(samePlan(other, base), same, `${what}, the other way`);
    }
  });
});
