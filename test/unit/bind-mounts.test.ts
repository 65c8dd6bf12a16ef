import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PolicyError } from '../../src/errors.js';
import { checkContainerBindMounts, resolveBindMounts } from '../../src/runtime/docker/bind-mounts.js';
import { checkMountSource, resolveRoot } from '../../src/spec/mount-paths.js';
import { appSpec } from '../support/spec-fixture.js';

describe('bind mounts at create and start', () => {
  const base = realpathSync(mkdtempSync(join(tmpdir(), 'berth-mounts-')));
  after(() => rmSync(base, { recursive: true, force: true }));
  const root = join(base, 'root');
  mkdirSync(join(root, 'data'), { recursive: true });
  mkdirSync(join(base, 'elsewhere'));
  symlinkSync(join(root, 'data'), join(root, 'alias'));

  const paths = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      assert.ok(err instanceof PolicyError, String(err));
      return err.problems.map((p) => p.path);
    }
    return [];
  };

  it('creates from the real path', () => {
    const app = appSpec('a', { mounts: [{ source: join(root, 'alias'), target: '/x', readOnly: true }] });
    assert.deepEqual(resolveBindMounts(app, [root]).mounts, [{ source: join(root, 'data'), target: '/x', readOnly: true }]);
  });

  it('refuses at create, naming mounts[i].source', () => {
    const app = appSpec('a', { mounts: [{ source: join(root, 'data'), target: '/x', readOnly: false }, { source: join(base, 'elsewhere'), target: '/y', readOnly: false }] });
    assert.deepEqual(paths(() => resolveBindMounts(app, [root])), ['mounts[1].source']);
  });

  it('refuses at start when a root was swapped for a link after the config was loaded', () => {
    const roots = [resolveRoot(root)];
    const mounts = [
      { Type: 'volume' as const, Source: 'berth-a-data', Target: '/v' },
      { Type: 'bind' as const, Source: join(root, 'data'), Target: '/x' },
    ];
    assert.deepEqual(paths(() => checkContainerBindMounts('berth-a-0', mounts, roots)), []);
    renameSync(root, `${root}.orig`);
    symlinkSync(join(base, 'elsewhere'), root);
    mkdirSync(join(base, 'elsewhere', 'data'));
    try {
      assert.deepEqual(paths(() => checkContainerBindMounts('berth-a-0', mounts, roots)), ['mounts[0].source']);
      // A root resolved again now would follow the link and allow it: that is why roots are resolved once.
      assert.equal(checkMountSource(join(root, 'data'), [resolveRoot(root)]).ok, true);
    } finally {
      rmSync(root);
      renameSync(`${root}.orig`, root);
    }
  });

  it('refuses at start a source that has gone', () => {
    assert.deepEqual(paths(() => checkContainerBindMounts('berth-a-0', [{ Type: 'bind', Source: join(root, 'gone'), Target: '/x' }], [root])), ['mounts[0].source']);
  });
});
