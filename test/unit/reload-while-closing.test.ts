// A reload that comes once the gateway is stopping (a SIGHUP or a config-management
// push racing systemd's stop): it used to load the new file, write it to the store and
// reconcile, starting the containers of newly added always-on apps while the operator
// was stopping the gateway, or failing on the store the stop had just closed. It is
// refused, saying why, and nothing in the store or the engine changes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openStore } from '../../src/store/open-store.js';
import { FakeGatewayBed } from '../support/fake-gateway.js';

const HEAD = 'listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nstore: ./berth.db\npolicy:\n  images: ["fake/*"]\n';
const app = (name: string) => `  - {apiVersion: berth/v1, name: ${name}, image: "fake/${name}:1", port: 8080, readiness: {path: /healthz}, scale: {min: 1, max: 1}}\n`;

describe('a reload while the gateway is stopping', () => {
  it('is refused as shutting down; no app is added to the store and no container is made', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    await writeFile(join(bed.dir, 'berth.yaml'), `${HEAD}apps:\n${app('web')}`);
    const gateway = await bed.start();
    await writeFile(join(bed.dir, 'berth.yaml'), `${HEAD}apps:\n${app('web')}${app('late')}`);

    const closing = bed.stop(gateway);
    const outcome = await gateway.reload();
    await closing;

    assert.equal(outcome.applied, false);
    assert.match(outcome.error ?? '', /shutting down/);
    assert.equal([...bed.runtime.containers.values()].some((c) => c.instance.app === 'late'), false, 'no container was made for the new app');
    const store = await openStore(bed.storePath);
    try {
      assert.deepEqual((await store.listApps()).map((a) => a.name), ['web']);
    } finally {
      await store.close();
    }
  });

  it('one that began before the stop and was still reading when it came: refused at its commit, nothing changed', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    // The reload's read of the store (its check of the API's apps) is held until the stop has begun.
    let hold: Promise<void> | undefined;
    let reading!: () => void;
    const read = new Promise<void>((resolve) => (reading = resolve));
    bed.wrapStore = (store) =>
      new Proxy(store, {
        get: (target, key, receiver) => {
          const value = Reflect.get(target, key, receiver);
          if (key !== 'listApps' || typeof value !== 'function') return typeof value === 'function' ? value.bind(target) : value;
          return async (...args: unknown[]) => {
            if (hold) {
              reading();
              await hold;
            }
            return value.apply(target, args);
          };
        },
      });
    await writeFile(join(bed.dir, 'berth.yaml'), `${HEAD}apps:\n${app('web')}`);
    const gateway = await bed.start();
    await writeFile(join(bed.dir, 'berth.yaml'), `${HEAD}apps:\n${app('late')}`);
    let release!: () => void;
    hold = new Promise<void>((resolve) => (release = resolve));
    const reloading = gateway.reload();
    await read;
    const closing = bed.stop(gateway);
    release();
    const outcome = await reloading;
    await closing;

    assert.equal(outcome.applied, false);
    assert.match(outcome.error ?? '', /shutting down/);
    assert.equal([...bed.runtime.containers.values()].some((c) => c.instance.app === 'late'), false, 'no container was made for the new app');
    assert.equal(bed.runtime.running('web').length, 1, 'the app the reload removed keeps its container');
    const store = await openStore(bed.storePath);
    try {
      assert.deepEqual((await store.listApps()).map((a) => a.name), ['web']);
    } finally {
      await store.close();
    }
  });

  it('one already committing when the stop comes: the stop waits for it, so its removal is finished and no tombstone is left', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    await writeFile(join(bed.dir, 'berth.yaml'), `${HEAD}apps:\n${app('web')}${app('gone')}`);
    const gateway = await bed.start();
    assert.equal(bed.runtime.running('gone').length, 1);
    // The reload's store transaction has committed; its engine step (stopping the removed app's container,
    // which takes its stop timeout for an app slow to exit) is held until the stop has begun.
    let release!: () => void;
    const hold = new Promise<void>((resolve) => (release = resolve));
    let committed!: () => void;
    const commit = new Promise<void>((resolve) => (committed = resolve));
    const stop = bed.runtime.stop.bind(bed.runtime);
    bed.runtime.stop = async (id) => {
      committed();
      await hold;
      return stop(id);
    };
    await writeFile(join(bed.dir, 'berth.yaml'), `${HEAD}apps:\n${app('web')}`);
    const reloading = gateway.reload();
    await commit;
    let closed = false;
    const closing = bed.stop(gateway).then(() => (closed = true));
    // Held until the stop ends or a second has passed: a stop that does not wait ends well within it.
    await Promise.race([closing, new Promise((r) => setTimeout(r, 1000))]);
    const closedFirst = closed;
    release();
    const outcome = await reloading;
    await closing;
    assert.equal(closedFirst, false, 'the stop waits for the commit under way');

    assert.equal(outcome.applied, true);
    assert.equal(outcome.error, undefined, 'the commit ran to its end');
    assert.equal(outcome.removalsPending, undefined);
    assert.equal(bed.runtime.running('gone').length, 0, 'the removed app has no container left');
    const store = await openStore(bed.storePath);
    try {
      assert.deepEqual((await store.listApps()).map((a) => a.name), ['web']);
      assert.deepEqual(await store.listDeleted(), [], 'no tombstone is left for the next start to finish');
    } finally {
      await store.close();
    }
  });
});
