// A delete lists the app's containers, stops the app, then removes what it listed. A
// container gone in between (the app's own stop or a start it called off removed it, or
// the engine did) is what the remove was for: the Docker runtime answers it with a
// NotFoundError, and the delete must count it done, not failed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { NotFoundError } from '../../src/errors.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import type { Store } from '../../src/store/store.js';
import { FakeGatewayBed } from '../support/fake-gateway.js';
import { waitFor } from '../support/wait-for.js';

const spec = (name: string) => ({ apiVersion: 'berth/v1', name, image: `fake/${name}:1`, port: 8080, readiness: { path: '/healthz' } });
const storeOf = (gateway: Gateway) => (gateway as unknown as { store: Store }).store;

describe('a delete whose container went while it was under way', () => {
  it('is done: no failure warned, no tombstone left for a retry', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    const runtime = bed.runtime;
    // As DockerRuntime's remove does (its gate inspects first): a container that is gone is a NotFoundError.
    const remove = runtime.remove.bind(runtime);
    runtime.remove = async (id: string) => {
      if (!runtime.containers.has(id)) throw new NotFoundError(`container ${id} does not exist on the Docker host`);
      return remove(id);
    };
    const warnings: Array<{ msg: string }> = [];
    const gateway = await bed.start({ logger: pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line)) }) });
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec('web'))).status, 200);
    const [id] = await waitFor('the container made ahead of the first request', () => {
      const ids = [...runtime.containers.values()].filter((c) => c.instance.app === 'web').map((c) => c.instance.id);
      return ids.length === 1 && ids;
    }, { timeoutMs: 5_000 });
    // The delete's list answers as of its call; the container goes while that answer is on its way.
    runtime.listDelayMs = 300;
    const listed = runtime.calls.list;
    const deleted = bed.api(gateway, 'DELETE', '/v1/apps/web');
    await waitFor('the delete listing the containers', () => runtime.calls.list > listed, { timeoutMs: 5_000 });
    await remove(id!);
    assert.equal((await deleted).status, 200);
    runtime.listDelayMs = 0;
    assert.deepEqual(warnings.map((w) => w.msg), []);
    assert.deepEqual(await storeOf(gateway).listDeleted(), [], 'the tombstone is forgotten at once');
  });
});
