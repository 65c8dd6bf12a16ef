// The config watch follows the configuration in force: a spec file an edit adds
// (in a directory not watched before) reloads when it changes; one dropped does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { watchConfig } from '../../src/cli/config-watch.js';
import { waitFor } from '../support/wait-for.js';

test('a spec source added by a reload is watched from then on, a dropped one no longer', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-cfgwatch-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const config = join(dir, 'berth.yaml');
  await mkdir(join(dir, 'old'));
  await mkdir(join(dir, 'new'));
  const oldSpec = join(dir, 'old', 'a.yaml');
  const newSpec = join(dir, 'new', 'b.yaml');
  await writeFile(config, '');
  await writeFile(oldSpec, '');
  await writeFile(newSpec, '');
  let sources = [config, oldSpec];
  let reloads = 0;
  // The reload "reads" the edited config: it now names new/b.yaml instead of old/a.yaml.
  const watch = watchConfig(() => sources, async () => {
    reloads++;
    sources = [config, newSpec];
  }, 20);
  t.after(() => watch.close());
  await writeFile(config, 'apps: [./new/b.yaml]\n');
  await waitFor('the first reload', () => reloads >= 1, { timeoutMs: 5000 });
  const first = await settle(() => reloads);
  await writeFile(newSpec, 'name: b\n');
  await waitFor('a reload for the new spec file', () => reloads > first, { timeoutMs: 5000 });
  // One save can be two change events (truncate, write); on a loaded machine they may fall in
  // two debounce windows, so wait until the reloads settle before counting.
  const settled = await settle(() => reloads);
  await writeFile(oldSpec, 'name: a\n');
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(reloads, settled, 'a save of the dropped file reloads nothing');
});

/** The value once it stayed the same for 300 ms (5 s at most). */
async function settle(read: () => number): Promise<number> {
  let last = read();
  for (let stable = 0, i = 0; stable < 3 && i < 50; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = read();
    stable = now === last ? stable + 1 : 0;
    last = now;
  }
  return last;
}
