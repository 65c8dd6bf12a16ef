// API changes run per app (change-lanes.ts): random interleavings of applies (routes moved and swapped between
// apps, dependsOn added and dropped), deletes, scales and reloads on a few apps, with engine calls of random
// length, must never wedge a later change, and once they settle the store, the desired index, the proxy's route
// table and the activator's controllers must all agree, with no route held twice and no dependsOn left dangling.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FakeGatewayBed } from '../support/fake-gateway.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import type { Store } from '../../src/store/store.js';
import type { DesiredIndex } from '../../src/gateway/desired-index.js';
import type { RouteTable } from '../../src/proxy/route-table.js';
import { specHash } from '../../src/spec/hash.js';
import { StoreError } from '../../src/errors.js';

const APPS = ['a', 'b', 'c', 'd'] as const;
const ROUTES = ['/r1/', '/r2/'] as const;

type Op =
  | { kind: 'apply'; app: string; tag: number; route?: string; dependsOn?: string; delayMs: number }
  | { kind: 'swap'; first: string; second: string; tag: number; delayMs: number }
  | { kind: 'delete'; app: string; delayMs: number }
  | { kind: 'scale'; app: string; replicas: number; delayMs: number }
  | { kind: 'reload'; delayMs: number };

const app = fc.constantFrom(...APPS);
const delayMs = fc.integer({ min: 0, max: 15 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('apply' as const), app, tag: fc.integer({ min: 1, max: 3 }), route: fc.option(fc.constantFrom(...ROUTES), { nil: undefined }), dependsOn: fc.option(app, { nil: undefined }), delayMs }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('swap' as const), first: app, second: app, tag: fc.integer({ min: 1, max: 3 }), delayMs }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), app, delayMs }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('scale' as const), app, replicas: fc.integer({ min: 1, max: 3 }), delayMs }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reload' as const), delayMs }) },
);

function spec(name: string, tag: number, route?: string, dependsOn?: string): Record<string, unknown> {
  return {
    apiVersion: 'berth/v1',
    name,
    image: `fake/${name}:${tag}`,
    port: 8080,
    readiness: { path: '/healthz' },
    scale: { min: 0, max: 3 },
    ...(route ? { routes: [{ path: route }] } : {}),
    ...(dependsOn && dependsOn !== name ? { dependsOn: [dependsOn] } : {}),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The change's answer, or a failure naming it when it has none within `ms`: a wedged lane. */
async function within<T>(what: string, call: Promise<T>, ms = 4_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms (a wedged change lane?)`)), ms)));
  try {
    return await Promise.race([call, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function run(bed: FakeGatewayBed, gateway: Gateway, o: Op): Promise<{ status: number; json: any }> {
  await sleep(o.delayMs);
  switch (o.kind) {
    case 'apply':
      return bed.api(gateway, 'POST', '/v1/apps', spec(o.app, o.tag, o.route, o.dependsOn));
    case 'swap':
      // Two apps in one apply, each taking the route the other may hold now.
      if (o.first === o.second) return bed.api(gateway, 'POST', '/v1/apps', spec(o.first, o.tag, '/r1/'));
      return bed.api(gateway, 'POST', '/v1/apps', [spec(o.first, o.tag, '/r2/'), spec(o.second, o.tag, '/r1/')]);
    case 'delete':
      return bed.api(gateway, 'DELETE', `/v1/apps/${o.app}`);
    case 'scale':
      return bed.api(gateway, 'POST', `/v1/apps/${o.app}/scale`, { replicas: o.replicas });
    case 'reload': {
      const outcome = await gateway.reload();
      return { status: outcome.applied ? 200 : 500, json: outcome };
    }
  }
}

/** The store, the desired index, the proxy's routes and the activator's controllers agree; the stored set is valid. */
async function assertAgree(gateway: Gateway, what: string): Promise<void> {
  const inside = gateway as unknown as { store: Store; desired: DesiredIndex; proxy: { routes: RouteTable } };
  const stored = await inside.store.listApps();
  const names = stored.map((s) => s.name).sort();
  assert.deepEqual([...inside.desired.specs.keys()].sort(), names, `${what}: the desired index holds the stored apps`);
  for (const row of stored) {
    assert.equal(specHash(inside.desired.specs.get(row.name)!), row.specHash, `${what}: the index has ${row.name}'s stored spec`);
  }
  const statuses = gateway.statuses();
  assert.deepEqual(statuses.map((s) => s.name).sort(), names, `${what}: a controller for each stored app, and none more`);
  for (const row of stored) {
    const target = row.replicas ?? row.spec.scale.replicas;
    assert.equal(statuses.find((s) => s.name === row.name)?.replicas, target, `${what}: ${row.name}'s controller runs the stored count (store ${row.replicas}, spec ${row.spec.scale.replicas}, controller ${statuses.find((s) => s.name === row.name)?.replicas})`);
  }
  assert.deepEqual(await inside.store.listDeleted(), [], `${what}: no delete left unfinished`);
  for (const route of ROUTES) {
    const owners = stored.filter((s) => s.spec.routes.some((r) => r.path === route)).map((s) => s.name);
    assert.ok(owners.length <= 1, `${what}: ${route} held by ${owners.join(', ')}`);
    assert.equal(inside.proxy.routes.match(undefined, `${route}x`)?.app, owners[0], `${what}: the proxy routes ${route} to its owner`);
  }
  for (const row of stored) for (const dep of row.spec.dependsOn) assert.ok(names.includes(dep), `${what}: ${row.name} depends on ${dep}, which is not stored`);
}

/** What the test's specs say of an app: the model's state. */
interface ModelApp {
  tag: number;
  route?: string;
  dependsOn?: string;
  replicas?: number;
}
type Model = ReadonlyMap<string, ModelApp>;

/** The stored set is one the API would accept: dependsOn names stored apps, with no cycle, and no route twice. */
function validModel(model: Model): boolean {
  const routes = new Set<string>();
  for (const [name, app] of model) {
    if (app.route) {
      if (routes.has(app.route)) return false;
      routes.add(app.route);
    }
    const seen = new Set([name]);
    for (let dep = app.dependsOn; dep !== undefined; dep = model.get(dep)?.dependsOn) {
      if (!model.has(dep) || seen.has(dep)) return false;
      seen.add(dep);
    }
  }
  return true;
}

/** `op` done alone on `model`: whether it succeeds, and the state after it (the same when refused). */
function step(model: Model, o: Op): { ok: boolean; next: Model } {
  const next = new Map(model);
  const put = (name: string, app: ModelApp) => {
    const was = model.get(name);
    const same = was && was.tag === app.tag && was.route === app.route && was.dependsOn === app.dependsOn;
    // A changed spec drops the count a scale kept; the same spec again keeps it.
    next.set(name, same ? was : app);
  };
  switch (o.kind) {
    case 'apply':
      put(o.app, { tag: o.tag, ...(o.route ? { route: o.route } : {}), ...(o.dependsOn && o.dependsOn !== o.app ? { dependsOn: o.dependsOn } : {}) });
      break;
    case 'swap':
      if (o.first === o.second) put(o.first, { tag: o.tag, route: '/r1/' });
      else {
        put(o.first, { tag: o.tag, route: '/r2/' });
        put(o.second, { tag: o.tag, route: '/r1/' });
      }
      break;
    case 'delete':
      if (!model.has(o.app) || [...model.values()].some((a) => a.dependsOn === o.app)) return { ok: false, next: model };
      next.delete(o.app);
      return { ok: true, next };
    case 'scale': {
      const app = model.get(o.app);
      if (!app) return { ok: false, next: model };
      next.set(o.app, { ...app, replicas: o.replicas });
      return { ok: true, next };
    }
    case 'reload':
      return { ok: true, next: model };
  }
  return validModel(next) ? { ok: true, next } : { ok: false, next: model };
}

const modelKey = (model: Model) => JSON.stringify([...model].sort(([a], [b]) => a.localeCompare(b)));

/**
 * Whether some order of `ops`, each done alone, gives each its answer (`oks`) and ends in `end`: the
 * changes ran side by side, so any order of them will do, but one must explain what was seen.
 */
function explained(start: Model, ops: readonly Op[], oks: readonly boolean[], end: Model): boolean {
  const want = modelKey(end);
  const seen = new Set<string>();
  const search = (model: Model, left: number): boolean => {
    if (left === 0) return modelKey(model) === want;
    const key = `${left}|${modelKey(model)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    for (let i = 0; i < ops.length; i++) {
      if (!(left & (1 << i))) continue;
      const { ok, next } = step(model, ops[i]!);
      if (ok === oks[i] && search(next, left & ~(1 << i))) return true;
    }
    return false;
  };
  return search(start, (1 << ops.length) - 1);
}

/** The store's apps as the model sees them. */
async function modelOf(gateway: Gateway): Promise<Model> {
  const stored = await (gateway as unknown as { store: Store }).store.listApps();
  return new Map(
    stored.map((row) => {
      const tag = Number(/:(\d+)$/.exec(row.spec.image)![1]);
      const route = row.spec.routes.map((r) => r.path).find((path) => path !== undefined && (ROUTES as readonly string[]).includes(path));
      const dependsOn = row.spec.dependsOn[0];
      return [row.name, { tag, ...(route ? { route } : {}), ...(dependsOn ? { dependsOn } : {}), ...(row.replicas === undefined ? {} : { replicas: row.replicas }) }];
    }),
  );
}

describe('change lanes under random interleavings', () => {
  it('applies, swaps, deletes, scales and reloads of 4 apps side by side never wedge, and leave every view agreeing (fast-check, fixed seed)', async (t) => {
    const bed = await FakeGatewayBed.create();
    t.after(() => bed.dispose());
    const gateway = await bed.start();
    // Engine calls of random length, so changes of different apps overlap at every step.
    const rt = bed.runtime;
    const slow = <K extends 'ping' | 'stop' | 'remove' | 'ensure'>(name: K) => {
      const original = (rt[name] as (...args: unknown[]) => Promise<unknown>).bind(rt);
      (rt as unknown as Record<string, unknown>)[name] = async (...args: unknown[]) => {
        await sleep(Math.floor(Math.random() * 6));
        return original(...args);
      };
    };
    for (const name of ['ping', 'stop', 'remove', 'ensure'] as const) slow(name);
    let round = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 2, maxLength: 7 }), async (ops) => {
        round++;
        const before = await modelOf(gateway);
        const answers = await Promise.all(ops.map((o, i) => within(`round ${round} change ${i} ${JSON.stringify(o)}`, run(bed, gateway, o))));
        for (const [i, answer] of answers.entries()) assert.ok(answer.status < 500, `round ${round} change ${i} ${JSON.stringify(ops[i])}: ${answer.status} ${JSON.stringify(answer.json)}`);
        await assertAgree(gateway, `round ${round} after ${JSON.stringify(ops)}`);
        // A refused change changed nothing, and the ones that went through did as they would have alone, in some order.
        const oks = answers.map((a) => a.status === 200);
        const after = await modelOf(gateway);
        assert.ok(explained(before, ops, oks, after), `round ${round}: no order of ${JSON.stringify(ops)} done alone from ${modelKey(before)} answers ${JSON.stringify(oks)} and ends in ${modelKey(after)}`);
        // A change asked now, of every app at once, still gets its turn: no lane is left waiting on a settled change.
        const reloaded = await within(`round ${round}: a reload after the changes`, gateway.reload());
        assert.equal(reloaded.applied, true, JSON.stringify(reloaded));
      }),
      // Fixed: seed 6's runs scale an app and then update its spec, which a controller kept the scaled count through
      // (fixed in app-controller.ts). BERTH_LANES_SEED and BERTH_LANES_RUNS explore further locally.
      { seed: Number(process.env.BERTH_LANES_SEED ?? 6), numRuns: Number(process.env.BERTH_LANES_RUNS ?? 25), endOnFailure: true, includeErrorInReport: true },
    );
  });

  it('an apply or delete whose rollout rejects and whose undo rejects too holds no later change of the same or another app', async (t) => {
    const bed = await FakeGatewayBed.create();
    // Failing on demand: listDeleted (read by every rollout, so desiredChanged rejects) and the undo's writes.
    const failing = new Set<string>();
    bed.wrapStore = (store) =>
      new Proxy(store, {
        get(target, key, receiver) {
          const value = Reflect.get(target, key, receiver);
          if (typeof value !== 'function' || !['listDeleted', 'restoreApp', 'deleteApp'].includes(String(key))) return value;
          return async (...args: unknown[]) => {
            if (failing.has(String(key))) throw new StoreError(`${String(key)} fails (test)`);
            return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          };
        },
      });
    t.after(() => bed.dispose());
    const gateway = await bed.start();
    for (const name of ['a', 'b']) assert.equal((await bed.api(gateway, 'POST', '/v1/apps', spec(name, 1))).status, 200);
    failing.add('listDeleted');
    failing.add('restoreApp');
    const refusedApply = await within('an update whose rollout and undo fail', bed.api(gateway, 'POST', '/v1/apps', spec('a', 2, '/r1/')));
    assert.ok(refusedApply.status >= 500, JSON.stringify(refusedApply));
    failing.add('deleteApp');
    const refusedCreate = await within('a create whose rollout and undo fail', bed.api(gateway, 'POST', '/v1/apps', spec('c', 1)));
    assert.ok(refusedCreate.status >= 500, JSON.stringify(refusedCreate));
    failing.delete('deleteApp');
    const refusedDelete = await within('a delete whose rollout and undo fail', bed.api(gateway, 'DELETE', '/v1/apps/b'));
    assert.ok(refusedDelete.status >= 500, JSON.stringify(refusedDelete));
    failing.clear();
    // Every lane those changes took is free: the same apps and others change at once.
    const answers = await Promise.all([
      within("a's next apply", bed.api(gateway, 'POST', '/v1/apps', spec('a', 3, '/r2/'))),
      within("b's next apply", bed.api(gateway, 'POST', '/v1/apps', spec('b', 3, '/r1/'))),
      within("c's next apply", bed.api(gateway, 'POST', '/v1/apps', spec('c', 3))),
      within('a new app', bed.api(gateway, 'POST', '/v1/apps', spec('d', 1))),
    ]);
    for (const answer of answers) assert.equal(answer.status, 200, JSON.stringify(answer.json));
    assert.equal((await within('a reload', gateway.reload())).applied, true);
    await assertAgree(gateway, 'after the failed changes and the next ones');
  });
});
