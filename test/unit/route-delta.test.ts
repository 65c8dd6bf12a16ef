// Route changes reach proxy workers as deltas: an apply of one app among
// thousands sends one entry, not every app for each worker to decode and rebuild.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { ControlFeed } from '../../src/cluster/control-feed.js';
import { routeEntriesOf } from '../../src/cluster/gateway-workers.js';
import { applyRouteDelta, routeDelta } from '../../src/cluster/route-delta.js';
import type { RouteEntry, ToProxy } from '../../src/cluster/state-feed.js';
import { FakeRuntime } from '../support/fake-runtime.js';
import { fakeActivator, fakeSpec } from '../support/fake-activator.js';

const entry = (app: string, path = `/${app}/`): RouteEntry => ({ app, routes: [{ path, stripPrefix: false }], balance: 'round-robin' });
const a = entry('a');
const b = entry('b');

describe('routeDelta', () => {
  const cases: Array<{ name: string; before: RouteEntry[]; next: RouteEntry[]; set: string[]; removed: string[] }> = [
    { name: 'nothing before: every entry is new', before: [], next: [a, b], set: ['a', 'b'], removed: [] },
    { name: 'the same objects: nothing changed', before: [a, b], next: [a, b], set: [], removed: [] },
    { name: 'an equal copy: nothing changed', before: [a, b], next: [{ ...a }, b], set: [], removed: [] },
    { name: 'a route changed', before: [a, b], next: [entry('a', '/other/'), b], set: ['a'], removed: [] },
    { name: 'a setting changed', before: [a, b], next: [{ ...a, balance: 'least-connections' }, b], set: ['a'], removed: [] },
    { name: 'an app gone', before: [a, b], next: [b], set: [], removed: ['a'] },
    { name: 'everything gone', before: [a, b], next: [], set: [], removed: ['a', 'b'] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const delta = routeDelta(new Map(c.before.map((e) => [e.app, e])), c.next);
      assert.deepEqual(delta.set.map((e) => e.app), c.set);
      assert.deepEqual(delta.removed, c.removed);
      const held = new Map(c.before.map((e) => [e.app, e]));
      applyRouteDelta(held, delta);
      assert.deepEqual([...held.values()].sort((x, y) => x.app.localeCompare(y.app)), [...c.next].sort((x, y) => x.app.localeCompare(y.app)), 'the worker ends up with the published set');
    });
  }
});

test('an apply of one app among 2,000 sends the workers that app alone; a worker joining later gets every route in its hello', () => {
  const sent: ToProxy[] = [];
  const feed = new ControlFeed({ activator: fakeActivator(new FakeRuntime()), logger: pino({ level: 'silent' }), onRecords: () => undefined, peers: { ids: () => [1, 2], send: (_, m) => sent.push(m) } });
  const specs = new Map(Array.from({ length: 2_000 }, (_, i) => [`app${i}`, fakeSpec(`app${i}`)]));
  feed.publishRoutes(routeEntriesOf(specs.values()));
  sent.length = 0;
  // As the gateway does after an apply: the changed app's spec is a new object, the others the same ones.
  specs.set('app7', fakeSpec('app7', { routes: [{ path: '/seven/' }] }));
  specs.delete('app8');
  feed.publishRoutes(routeEntriesOf(specs.values()));
  assert.equal(sent.length, 2, 'one message per worker');
  for (const m of sent) {
    assert.ok(m.t === 'routes');
    assert.deepEqual(m.set.map((e) => e.app), ['app7']);
    assert.deepEqual(m.removed, ['app8']);
    assert.ok(JSON.stringify(m).length < 1_000, `the message is small (${JSON.stringify(m).length} bytes)`);
  }
  sent.length = 0;
  feed.publishRoutes(routeEntriesOf(specs.values()));
  assert.equal(sent.length, 0, 'no change, no message');
  const hello = feed.hello(3, { host: '127.0.0.1', port: 0, trustedProxies: [], maxRequestHeaders: 100, timeouts: {}, logLevel: 'silent', inputSecret: '' });
  assert.equal(hello.routes.length, 1_999);
  assert.deepEqual(hello.routes.find((r) => r.app === 'app7')?.routes.map((r) => r.path), ['/seven/']);
});
