// An apply rolled out, then the store refused to settle it (a full disk): the answer was a
// plain 503 "cannot settle applied apps", as if nothing had changed, while the new revision
// served, and the next start went back to the revision before. Applying the same spec again
// once the store was fixed answered "unchanged" and settled nothing: the restart still went
// back. Now the answer says which revision runs and that it is not kept, and the same spec
// applied again keeps it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StoreUnavailableError } from '../../src/errors.js';
import { notKeptError } from '../../src/gateway/app-service.js';
import type { Store } from '../../src/store/store.js';
import { FakeGatewayBed } from '../support/fake-gateway.js';
import { eventually } from '../support/fake-activator.js';

const spec = (tag: string) => ({ apiVersion: 'berth/v1', name: 'web', image: `fake/web:${tag}`, port: 8080, readiness: { path: '/healthz' }, startTimeout: '5s', scale: { min: 1, max: 1 } });

/** The store, whose settleApps fails as on a full disk while `full.on`. */
function fullOnSettle(store: Store, full: { on: boolean }): Store {
  return new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (key !== 'settleApps') return typeof value === 'function' ? value.bind(target) : value;
      return async (names: readonly string[]) => {
        if (full.on) throw new StoreUnavailableError('store at berth.db: cannot settle applied apps: the disk is full (database or disk is full)');
        return (value as Store['settleApps']).call(target, names);
      };
    },
  });
}

describe('an apply rolled out whose settling the store refuses', () => {
  it('notKeptError: names what runs, keeps the 503 of the store, and says how to keep it', () => {
    const err = notKeptError([{ name: 'web', action: 'updated', revision: 2 }, { name: 'api', action: 'created', revision: 1 }], new StoreUnavailableError('the disk is full'));
    assert.equal(err.code, 'store_unavailable');
    assert.match(err.message, /^web revision 2, api revision 1 \(created\) run but are not kept: the disk is full\. /);
    assert.match(err.message, /apply the same spec again to keep it$/);
    assert.equal(notKeptError([{ name: 'web', action: 'updated', revision: 2 }], new Error('boom')).code, 'store_error');
  });

  it('says the new revision runs but is not kept; the same spec applied again keeps it across a restart', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    const full = { on: false };
    bed.wrapStore = (store) => fullOnSettle(store, full);
    const gateway = await bed.start();
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec('1'))).status, 200);
    await eventually('web runs', () => bed.runtime.running('web').length === 1);
    full.on = true;
    const refused = await bed.api(gateway, 'POST', '/v1/apps', spec('2'));
    assert.equal(refused.status, 503);
    assert.equal(refused.json.code, 'store_unavailable');
    assert.match(refused.json.detail, /^web revision 2 runs but is not kept: .*the disk is full/);
    full.on = false;
    const again = await bed.api(gateway, 'POST', '/v1/apps', spec('2'));
    assert.equal(again.status, 200, JSON.stringify(again.json));
    await bed.stop(gateway);
    bed.wrapStore = (store) => store;
    const next = await bed.start();
    const web = await bed.api(next, 'GET', '/v1/apps/web');
    assert.equal(web.status, 200);
    assert.equal(web.json.spec.image, 'fake/web:2');
    assert.equal(web.json.revision, 2);
  });
});
