import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planResync, type BelievedApp, type ObservedInstance, type ResyncAction } from '../../src/activator/resync-plan.js';

const H = 'hash1';

function app(state: BelievedApp['state'], slots: Array<string | [string, 'busy']> = [], parked: Array<[string, ObservedInstance['state']]> = []): BelievedApp {
  return {
    name: 'web',
    state,
    containerHash: H,
    slots: slots.map((s) => (typeof s === 'string' ? { id: s, busy: false } : { id: s[0], busy: true })),
    parked: parked.map(([id, st]) => ({ id, state: st })),
  };
}

function seen(id: string, state: ObservedInstance['state'], extra: Partial<ObservedInstance> = {}): ObservedInstance {
  return { id, app: 'web', specHash: H, state, ...extra };
}

/** An app whose one slot `id` berth dials at 127.0.0.1:`port`. */
function dialling(state: BelievedApp['state'], id: string, port: number, busy = false): BelievedApp {
  return { ...app(state), slots: [{ id, busy, address: { host: '127.0.0.1', port } }] };
}

const at = (port: number) => ({ address: { host: '127.0.0.1', port } });

const CASES: Array<[string, BelievedApp, ObservedInstance[], ResyncAction[], string?]> = [
  ['runs where berth dials it: nothing', dialling('running', 'a', 3000), [seen('a', 'running', at(3000))], []],
  ['taken off its network (runs, no published port): route lost', dialling('running', 'a', 3000), [seen('a', 'running')], [{ kind: 'routeLost', app: 'web', id: 'a' }]],
  ['connected again, published at another port: route lost', dialling('running', 'a', 3000), [seen('a', 'running', at(3001))], [{ kind: 'routeLost', app: 'web', id: 'a' }]],
  ['another host, same port (a Swarm node written otherwise): nothing', dialling('running', 'a', 3000), [seen('a', 'running', { address: { host: 'node-1', port: 3000 } })], []],
  ['no port and exited: an exit, not a lost route', dialling('running', 'a', 3000), [seen('a', 'exited', { exitCode: 0 })], [{ kind: 'exited', app: 'web', id: 'a', exitCode: 0 }]],
  ['a slot berth is restarting has no port meanwhile: left to berth', dialling('running', 'a', 3000, true), [seen('a', 'running')], []],
  ['paused with no port: left to the pause', dialling('running', 'a', 3000), [seen('a', 'paused')], []],
  ['running, and it runs: nothing', app('running', ['a']), [seen('a', 'running')], []],
  ['killed behind its back: exited with its code', app('running', ['a']), [seen('a', 'exited', { exitCode: 137 })], [{ kind: 'exited', app: 'web', id: 'a', exitCode: 137 }]],
  ['dead counts as exited', app('running', ['a']), [seen('a', 'dead', { exitCode: 1 })], [{ kind: 'exited', app: 'web', id: 'a', exitCode: 1 }]],
  ['removed while serving: exited, then removed', app('running', ['a']), [], [{ kind: 'exited', app: 'web', id: 'a' }, { kind: 'removed', app: 'web', id: 'a' }]],
  ['one of two replicas killed: only that one', app('running', ['a', 'b']), [seen('a', 'running'), seen('b', 'exited', { exitCode: 0 })], [{ kind: 'exited', app: 'web', id: 'b', exitCode: 0 }]],
  ['a slot berth is draining or restarting is left to berth', app('running', [['a', 'busy']]), [seen('a', 'exited', { exitCode: 0 })], []],
  ['mid-start: nothing, whatever the engine shows', app('starting', [], [['a', 'exited']]), [seen('a', 'running')], []],
  ['mid-stop: nothing, whatever the engine shows', app('stopping', ['a']), [seen('a', 'exited')], []],
  ['stopped, and it is stopped: nothing', app('stopped', [], [['a', 'exited']]), [seen('a', 'exited')], []],
  ['started behind its back while stopped: adopted', app('stopped', [], [['a', 'exited']]), [seen('a', 'running')], [{ kind: 'started', app: 'web', id: 'a' }]],
  ['started while failed: adopted', app('failed', [], [['a', 'exited']]), [seen('a', 'running')], [{ kind: 'started', app: 'web', id: 'a' }]],
  ['started while crash-looping: adopted', app('crashloop', [], [['a', 'exited']]), [seen('a', 'running')], [{ kind: 'started', app: 'web', id: 'a' }]],
  ['unpaused behind its back while paused: adopted', app('paused', [], [['a', 'paused']]), [seen('a', 'running')], [{ kind: 'started', app: 'web', id: 'a' }]],
  ['a paused container killed behind its back: exited with its code', app('paused', [], [['a', 'paused']]), [seen('a', 'exited', { exitCode: 137 })], [{ kind: 'exited', app: 'web', id: 'a', exitCode: 137 }]],
  ['a kept unready container that stopped: exited', app('failed', [], [['a', 'running']]), [seen('a', 'exited', { exitCode: 1 })], [{ kind: 'exited', app: 'web', id: 'a', exitCode: 1 }]],
  ['a paused container still paused: nothing', app('paused', [], [['a', 'paused']]), [seen('a', 'paused')], []],
  ['a parked container removed: forgotten', app('stopped', [], [['a', 'exited']]), [], [{ kind: 'removed', app: 'web', id: 'a' }]],
  ['an exited replica started again while the app runs: left, as its start event would be', app('running', ['a'], [['b', 'exited']]), [seen('a', 'running'), seen('b', 'running')], []],
  ['an unknown running container of a stopped app: adopted', app('stopped'), [seen('x', 'running')], [{ kind: 'started', app: 'web', id: 'x' }]],
  ['an unknown container of an older spec: not adopted', app('stopped'), [seen('x', 'running', { specHash: 'old' })], []],
  ['an unknown container not running: left to reconcile', app('stopped'), [seen('x', 'exited')], []],
  ["another store's running container: never adopted", app('stopped'), [seen('x', 'running', { store: 'other' })], [], 'mine'],
  ["this store's running container: adopted", app('stopped'), [seen('x', 'running', { store: 'mine' })], [{ kind: 'started', app: 'web', id: 'x' }], 'mine'],
  ["an older berth's unlabelled container: adopted, as reconcile counts it as this store's", app('stopped'), [seen('x', 'running')], [{ kind: 'started', app: 'web', id: 'x' }], 'mine'],
  ["another app's container: not this app's business", app('stopped'), [seen('x', 'running', { app: 'api' })], []],
];

for (const [name, believed, observed, want, storeId] of CASES) {
  test(`resync plan: ${name}`, () => {
    assert.deepEqual(planResync({ believed: [believed], observed, ...(storeId ? { storeId } : {}) }), want);
  });
}

test('resync plan: each app is planned on its own', () => {
  const web = app('running', ['a']);
  const api: BelievedApp = { ...app('stopped', [], [['b', 'exited']]), name: 'api' };
  const actions = planResync({ believed: [web, api], observed: [seen('a', 'exited', { exitCode: 2 }), seen('b', 'running', { app: 'api' })] });
  assert.deepEqual(actions, [
    { kind: 'exited', app: 'web', id: 'a', exitCode: 2 },
    { kind: 'started', app: 'api', id: 'b' },
  ]);
});
