// One app whose engine calls are slow (a container that ignores SIGTERM to the end of its
// grace, a rollout whose new container takes long to start) must not hold the admin API
// for the other apps: their applies, scales, deletes and stops, and every read, answer
// meanwhile. The slow app's own later changes still wait their turn.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventually } from '../support/fake-activator.js';
import { FakeGatewayBed } from '../support/fake-gateway.js';
import { httpGet } from '../support/gateway-harness.js';

const spec = (name: string, tag: string, extra: Record<string, unknown> = {}) => ({ apiVersion: 'berth/v1', name, image: `fake/${name}:${tag}`, port: 8080, readiness: { path: '/healthz' }, ...extra });

/** A gate the test opens: the engine call waiting on it answers then. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

/** How long an answer that nothing should hold may take on a busy 2-core machine. */
const PROMPT_MS = 2_000;

/** The call's answer, or a failure naming it when it takes longer than PROMPT_MS. */
async function prompt<T>(what: string, call: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${PROMPT_MS} ms while app a's engine call hangs`)), PROMPT_MS)));
  try {
    return await Promise.race([call, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether `promise` is still pending after a short while. */
async function stillPending(promise: Promise<unknown>, ms = 150): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setTimeout(resolve, ms));
  return !settled;
}

/** A gateway with apps a (running), b (running) and c (stopped), and a's container stops only when the gate opens. */
async function slowStopBed(t: { after(fn: () => unknown): void }) {
  const bed = await FakeGatewayBed.create();
  const slow = gate();
  // Opened at the end whatever happened, so nothing the test began is left waiting.
  t.after(async () => {
    slow.open();
    await bed.dispose();
  });
  const gateway = await bed.start();
  for (const name of ['a', 'b', 'c']) assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec(name, '1', { scale: { min: 0, max: 3 } }))).status, 200);
  for (const name of ['a', 'b']) assert.equal((await bed.api(gateway, 'POST', `/v1/apps/${name}/start`)).status, 200);
  const rt = bed.runtime;
  const stop = rt.stop.bind(rt);
  let aStops = 0;
  rt.stop = async (id) => {
    if (rt.containers.get(id)?.instance.app === 'a') {
      aStops++;
      await slow.wait;
    }
    return stop(id);
  };
  return { bed, gateway, slow, aStopAsked: () => aStops > 0 };
}

describe("one app's slow engine calls do not hold the admin API for the others", () => {
  it("while a's delete waits for its container to stop, the other apps' applies, scales, stops and deletes answer, and so do the reads", async (t) => {
    const { bed, gateway, slow, aStopAsked } = await slowStopBed(t);
    const deleting = bed.api(gateway, 'DELETE', '/v1/apps/a');
    await eventually("a's stop reached the engine", aStopAsked);

    const listed = await prompt('GET /v1/apps', bed.api(gateway, 'GET', '/v1/apps'));
    assert.equal(listed.status, 200);
    const updated = await prompt('apply of b (an update)', bed.api(gateway, 'POST', '/v1/apps', spec('b', '2', { scale: { min: 0, max: 3 } })));
    assert.equal(updated.status, 200, JSON.stringify(updated.json));
    assert.equal(updated.json.results[0].action, 'updated');
    const created = await prompt('apply of d (a new app)', bed.api(gateway, 'POST', '/v1/apps', spec('d', '1')));
    assert.equal(created.status, 200, JSON.stringify(created.json));
    const scaled = await prompt('scale of b', bed.api(gateway, 'POST', '/v1/apps/b/scale', { replicas: 2 }));
    assert.equal(scaled.status, 200, JSON.stringify(scaled.json));
    const stopped = await prompt('stop of b', bed.api(gateway, 'POST', '/v1/apps/b/stop'));
    assert.equal(stopped.status, 200, JSON.stringify(stopped.json));
    // A request for b cold-starts it again meanwhile: starts take no turn among the changes.
    assert.equal((await prompt('a request that starts b', httpGet(gateway.proxyAddress!.port, '/session/b/'))).status, 200);
    const deleted = await prompt('delete of c', bed.api(gateway, 'DELETE', '/v1/apps/c'));
    assert.equal(deleted.status, 200, JSON.stringify(deleted.json));
    assert.equal((await prompt('GET /v1/apps/c', bed.api(gateway, 'GET', '/v1/apps/c'))).status, 404);

    // a's own next change keeps its place: it waits for the delete, then creates a anew.
    const again = bed.api(gateway, 'POST', '/v1/apps', spec('a', '2'));
    assert.equal(await stillPending(again), true, "a's apply waits for a's delete");
    assert.equal(await stillPending(deleting, 0), true, "a's delete still waits for its container");
    slow.open();
    assert.equal((await deleting).status, 200);
    const reapplied = await again;
    assert.equal(reapplied.status, 200, JSON.stringify(reapplied.json));
    assert.equal(reapplied.json.results[0].action, 'created');
    assert.equal((await bed.api(gateway, 'GET', '/v1/apps/a')).json.spec.image, 'fake/a:2');
    assert.deepEqual(
      (await bed.api(gateway, 'GET', '/v1/apps')).json.apps.map((i: { name: string }) => i.name),
      ['a', 'b', 'd'],
    );
  });

  it("while a's update rolls out slowly, b's changes answer, and a route a still holds cannot be taken meanwhile", async (t) => {
    const bed = await FakeGatewayBed.create();
    const slow = gate();
    t.after(async () => {
      slow.open();
      await bed.dispose();
    });
    const gateway = await bed.start();
    const always = { scale: { min: 1, max: 1 } };
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec('a', '1', { ...always, routes: [{ path: '/shared/' }] }))).status, 200);
    assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec('b', '1'))).status, 200);
    await eventually('a runs', () => bed.runtime.running('a').length === 1);
    const rt = bed.runtime;
    const start = rt.start.bind(rt);
    let newStarts = 0;
    rt.start = async (id) => {
      if (rt.containers.get(id)?.image === 'fake/a:2') {
        newStarts++;
        await slow.wait;
      }
      return start(id);
    };
    // Revision 2 gives the path up; until its rollout is done, revision 1 may yet come back (rolled back) with it.
    const updating = bed.api(gateway, 'POST', '/v1/apps', spec('a', '2', always));
    await eventually("a's new container is being started", () => newStarts > 0);

    const scaled = await prompt('scale of b', bed.api(gateway, 'POST', '/v1/apps/b/scale', { replicas: 1 }));
    assert.equal(scaled.status, 200, JSON.stringify(scaled.json));
    const updated = await prompt('apply of b', bed.api(gateway, 'POST', '/v1/apps', spec('b', '2')));
    assert.equal(updated.status, 200, JSON.stringify(updated.json));
    const deleted = await prompt('delete of b', bed.api(gateway, 'DELETE', '/v1/apps/b'));
    assert.equal(deleted.status, 200, JSON.stringify(deleted.json));

    const taking = bed.api(gateway, 'POST', '/v1/apps', spec('e', '1', { routes: [{ path: '/shared/' }] }));
    assert.equal(await stillPending(taking), true, "an app claiming a's old path waits for a's rollout");
    slow.open();
    assert.equal((await updating).status, 200);
    const taken = await taking;
    assert.equal(taken.status, 200, JSON.stringify(taken.json));
    assert.equal((await bed.api(gateway, 'GET', '/v1/apps/a')).json.revision, 2);
  });

  it("the retry of a delete whose removal failed hangs on a's container: the other apps' changes answer meanwhile", async (t) => {
    const { bed, gateway, slow } = await slowStopBed(t);
    const rt = bed.runtime;
    const remove = rt.remove.bind(rt);
    let aRemoves = 0;
    rt.remove = async (id: string) => {
      if (rt.containers.get(id)?.instance.app === 'a' && ++aRemoves === 1) throw new Error('the engine refused the removal');
      if (rt.containers.get(id)?.instance.app === 'a') await slow.wait;
      return remove(id);
    };
    // a's stop is let through; its removal is refused, so the delete is answered and retried a second later.
    slow.open();
    assert.equal((await bed.api(gateway, 'DELETE', '/v1/apps/a')).status, 200);
    const hang = gate();
    rt.remove = async (id: string) => {
      if (rt.containers.get(id)?.instance.app === 'a') {
        aRemoves++;
        await hang.wait;
      }
      return remove(id);
    };
    t.after(() => hang.open());
    await eventually("the retry's removal of a reached the engine", () => aRemoves >= 2, 5_000);
    const updated = await prompt('apply of b', bed.api(gateway, 'POST', '/v1/apps', spec('b', '2', { scale: { min: 0, max: 3 } })));
    assert.equal(updated.status, 200, JSON.stringify(updated.json));
    assert.equal((await prompt('delete of c', bed.api(gateway, 'DELETE', '/v1/apps/c'))).status, 200);
    hang.open();
    await eventually("a's container is removed", () => [...rt.containers.values()].every((c) => c.instance.app !== 'a'), 5_000);
  });

  it('a change that comes to depend on an app created while it waited its turn waits for that app\'s change too', async (t) => {
    const { bed, gateway, slow, aStopAsked } = await slowStopBed(t);
    const rt = bed.runtime;
    const start = rt.start.bind(rt);
    const dStarts = gate();
    t.after(() => dStarts.open());
    rt.start = async (id) => {
      if (rt.containers.get(id)?.instance.app === 'd') await dStarts.wait;
      return start(id);
    };
    const deleting = bed.api(gateway, 'DELETE', '/v1/apps/a');
    await eventually("a's stop reached the engine", aStopAsked);
    // Queued behind a's delete while d does not exist yet: then it is ordered with a alone.
    const recreating = bed.api(gateway, 'POST', '/v1/apps', spec('a', '2', { dependsOn: ['d'] }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    // d is created (and stored) beside a's delete, and its first start hangs: its apply may yet be undone.
    const creating = bed.api(gateway, 'POST', '/v1/apps', spec('d', '1', { scale: { min: 1, max: 1 } }));
    await eventually('d is stored and its container made', () => [...rt.containers.values()].some((c) => c.instance.app === 'd'), 5_000);
    slow.open();
    assert.equal((await deleting).status, 200);
    assert.equal(await stillPending(recreating, 300), true, "a, which now depends on d, waits for d's apply to be done");
    dStarts.open();
    assert.equal((await creating).status, 200);
    const recreated = await recreating;
    assert.equal(recreated.status, 200, JSON.stringify(recreated.json));
    assert.deepEqual((await bed.api(gateway, 'GET', '/v1/apps/a')).json.spec.dependsOn, ['d']);
  });

  it("an engine call of a's that never returns: the others' changes answer, and the gateway still closes in bounded time", async (t) => {
    const { bed, gateway, aStopAsked } = await slowStopBed(t);
    const deleting = bed.api(gateway, 'DELETE', '/v1/apps/a').catch(() => undefined);
    await eventually("a's stop reached the engine", aStopAsked);
    assert.equal((await prompt('apply of d', bed.api(gateway, 'POST', '/v1/apps', spec('d', '1')))).status, 200);
    assert.equal((await prompt('GET /v1/apps', bed.api(gateway, 'GET', '/v1/apps'))).status, 200);
    const began = performance.now();
    await prompt('close', bed.stop(gateway));
    assert.ok(performance.now() - began < PROMPT_MS);
    void deleting;
  });
});
