/**
 * Two gateways with their own stores may share one engine (staging beside
 * production). A container of the same name that another gateway made is refused
 * (ensure.ts); its app's named volume was not: an app "x" applied to one gateway
 * mounted the other gateway's berth-x-data, data and all, and a delete with
 * purgeVolumes removed it. berth's volumes carry the store's label too, checked now.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DockerContext } from '../../src/runtime/docker/context.js';
import { ensureVolume, purgeVolume } from '../../src/runtime/docker/volume.js';
import { ConflictError } from '../../src/errors.js';
import { LABEL_STORE } from '../../src/runtime/runtime.js';

/** Just the volume calls of the engine, over a map of volumes by name. */
function fakeEngine(volumes: Map<string, Record<string, string>>) {
  const calls: string[] = [];
  const docker = {
    getVolume: (name: string) => ({
      inspect: async () => {
        const labels = volumes.get(name);
        if (!labels) throw Object.assign(new Error('no such volume'), { statusCode: 404 });
        return { Name: name, Labels: labels };
      },
      remove: async () => {
        calls.push(`remove ${name}`);
        volumes.delete(name);
      },
    }),
    createVolume: async (options: { Name: string; Labels: Record<string, string> }) => {
      calls.push(`create ${options.Name}`);
      if (!volumes.has(options.Name)) volumes.set(options.Name, options.Labels);
    },
    listContainers: async () => [],
  };
  const ctx = { endpoint: { url: 'unix:///fake.sock' }, extraLabels: { [LABEL_STORE]: 'mine' }, docker: () => docker } as unknown as DockerContext;
  return { ctx, calls };
}

const theirs = { 'berth.managed': 'true', 'berth.app': 'x', [LABEL_STORE]: 'theirs' };
const mine = { 'berth.managed': 'true', 'berth.app': 'x', [LABEL_STORE]: 'mine' };

describe("an app's named volume made by another gateway", () => {
  it('is not mounted: ensure refuses it, naming the other store', async () => {
    const { ctx } = fakeEngine(new Map([['berth-x-data', theirs]]));
    await assert.rejects(ensureVolume(ctx, 'x'), (err: unknown) => err instanceof ConflictError && /volume berth-x-data belongs to another berth gateway \(store theirs\)/.test(err.message));
  });

  it('is not removed by a purge', async () => {
    const volumes = new Map([['berth-x-data', theirs]]);
    const { ctx, calls } = fakeEngine(volumes);
    await assert.rejects(purgeVolume(ctx, 'x'), ConflictError);
    assert.deepEqual(calls, []);
    assert.ok(volumes.has('berth-x-data'));
  });

  it("this gateway's own volume, or one from before the store label, is used and purged as before", async () => {
    for (const labels of [mine, { 'berth.managed': 'true', 'berth.app': 'x' }]) {
      const volumes = new Map([['berth-x-data', labels]]);
      const { ctx, calls } = fakeEngine(volumes);
      await ensureVolume(ctx, 'x');
      await purgeVolume(ctx, 'x');
      assert.deepEqual(calls, ['remove berth-x-data']);
    }
  });
});
