// A policy.secretFiles root that holds berth's own data directory would let any spec read
// the admin token or the store into a container: refused when the config is loaded.
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { buildConfig } from '../../src/config/load-config.js';
import { secretRootProblems } from '../../src/config/secret-roots.js';

let dir = '';
before(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'berth-secret-roots-'));
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

it('secretRootProblems: a root at or above the data directory is refused, one beside or inside it is not', () => {
  const asWritten = (path: string) => path;
  const cases: Array<[string, boolean]> = [
    ['/', true],
    ['/srv', true],
    ['/srv/berth', true],
    ['/srv/berth/data', true],
    ['/srv/berth/data/', true],
    ['/srv/berth/data/secrets', false],
    ['/srv/berth/secrets', false],
    ['/srv/berth/data-secrets', false],
    ['/run/secrets', false],
  ];
  for (const [root, refused] of cases) {
    const problems = secretRootProblems([root], '/srv/berth/data', asWritten);
    assert.equal(problems.length, refused ? 1 : 0, `${root}: ${problems.join('; ')}`);
  }
  // A link to the data directory's parent is seen through.
  const linked = secretRootProblems(['/run/secrets', '/srv/link'], '/srv/berth/data', (p) => (p === '/srv/link' ? '/srv/berth' : p));
  assert.deepEqual(linked.length, 1);
  assert.match(linked[0]!, /^policy\.secretFiles\[1\]: "\/srv\/link" holds berth's own data directory \/srv\/berth\/data \(its store, admin-token\)/);
});

it('a config whose secretFiles root holds the store and admin-token is refused at load, naming the field', async () => {
  // BERTH_STORE would win over the config's store.
  const saved = process.env.BERTH_STORE;
  delete process.env.BERTH_STORE;
  try {
    await assert.rejects(buildConfig({ store: './data/berth.db', policy: { secretFiles: ['.'] } }, dir), (err: Error) => {
      assert.match(err.message, /policy\.secretFiles\[0\]: ".*" holds berth's own data directory .*data \(its store, admin-token\)/);
      return true;
    });
    await assert.rejects(buildConfig({ store: './berth.db', policy: { secretFiles: [dir] } }, dir), /policy\.secretFiles\[0\]/);
    // Secrets kept beside the store, in a directory of their own, stay allowed.
    const config = await buildConfig({ store: './berth.db', policy: { secretFiles: ['./secrets'] } }, dir);
    assert.deepEqual(config.policy.secretFiles, [join(dir, 'secrets')]);
  } finally {
    if (saved !== undefined) process.env.BERTH_STORE = saved;
  }
});

it('a config whose bindMountRoots root holds the store and admin-token is refused at load, links seen through', async () => {
  const saved = process.env.BERTH_STORE;
  delete process.env.BERTH_STORE;
  const base = join(dir, 'mounts');
  await fs.mkdir(join(base, 'data', 'apps'), { recursive: true });
  await fs.symlink(base, join(dir, 'mounts-link'));
  try {
    // The config's own directory holds ./data/berth.db: a spec could mount ./data and read (or write) the store.
    await assert.rejects(buildConfig({ store: './data/berth.db', policy: { bindMountRoots: ['.'] } }, base), (err: Error) => {
      assert.match(err.message, /policy\.bindMountRoots\[0\]: ".*" holds berth's own data directory .*data \(its store, admin-token\): an app could mount them/);
      return true;
    });
    // Through a symbolic link to the same directory, as the second root.
    await assert.rejects(buildConfig({ store: './data/berth.db', policy: { bindMountRoots: ['./data/apps', join(dir, 'mounts-link')] } }, base), /policy\.bindMountRoots\[1\]: ".*mounts-link" holds berth's own data directory/);
    // A directory of its own inside the data directory holds neither the store nor the token.
    const config = await buildConfig({ store: './data/berth.db', policy: { bindMountRoots: ['./data/apps'] } }, base);
    assert.deepEqual(config.policy.bindMountRoots, [join(await fs.realpath(base), 'data', 'apps')]);
  } finally {
    if (saved !== undefined) process.env.BERTH_STORE = saved;
  }
});
