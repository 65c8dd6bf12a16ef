/**
 * Apps on the host network are dialled at 127.0.0.1:<port>, the host's own port:
 * a spec may not name the gateway's listener ports (berth would dial itself, or a
 * public route would reach the admin API), nor another host-network app's port.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Activator } from '../../src/activator/activator.js';
import { buildConfig } from '../../src/config/load-config.js';
import { SpecError } from '../../src/errors.js';
import { AppService } from '../../src/gateway/app-service.js';
import { DesiredIndex } from '../../src/gateway/desired-index.js';
import { StateEvents } from '../../src/gateway/state-events.js';
import type { Runtime } from '../../src/runtime/runtime.js';
import { gatewayClaims, parseSpecObject, validateAppSet } from '../../src/spec/index.js';
import type { AppSpec } from '../../src/spec/types.js';
import { SqliteStore } from '../../src/store/sqlite-store.js';

const policy = { images: [], allowHostNetwork: true };

function hostApp(name: string, port: number, hostNetwork = true): AppSpec {
  return parseSpecObject({ apiVersion: 'berth/v1', name, image: 'example/a:1', port, security: { hostNetwork } });
}

const listeners = { listen: { host: '0.0.0.0', port: 8080 }, admin: { host: '127.0.0.1', port: 8081 }, adminHosts: [], tls: { listen: { host: '0.0.0.0', port: 8443 } } };

function problemsOf(specs: AppSpec[]): string[] {
  try {
    validateAppSet(specs, undefined, undefined, gatewayClaims(listeners));
  } catch (err) {
    assert.ok(err instanceof SpecError, String(err));
    return err.problems.map((p) => `${p.path}: ${p.message}`);
  }
  return [];
}

describe('host-network ports', () => {
  const cases: Array<[string, AppSpec[], string[]]> = [
    ['the proxy port', [hostApp('a', 8080)], ['apps[0].port: app "a" is on the host network, where port 8080 is the gateway\'s own (listen): berth would dial itself']],
    ['the admin port', [hostApp('a', 8081)], ['apps[0].port: app "a" is on the host network, where port 8081 is the gateway\'s own (admin): berth would dial itself']],
    ['the TLS port', [hostApp('a', 8443)], ['apps[0].port: app "a" is on the host network, where port 8443 is the gateway\'s own (tls.listen): berth would dial itself']],
    ['another host-network app\'s port', [hostApp('a', 9000), hostApp('b', 9000)], ['apps[1].port: app "b" is on the host network, where port 9000 is already app "a"\'s: berth would dial one for the other']],
    ['a free port', [hostApp('a', 9000), hostApp('b', 9001)], []],
    ['a gateway port inside a container (not the host\'s)', [hostApp('a', 8081, false), hostApp('b', 8081, false)], []],
  ];
  for (const [what, specs, expected] of cases) {
    it(`${expected.length > 0 ? 'refuses' : 'accepts'} ${what}`, () => assert.deepEqual(problemsOf(specs), expected));
  }

  it('a port the system picks (0) is no claim', () => {
    assert.deepEqual([...gatewayClaims({ ...listeners, listen: { port: 0 }, tls: undefined }).ports], [[8081, 'admin']]);
  });

  it('needs the port written out: one read from the image would escape the check', () => {
    assert.throws(() => parseSpecObject({ apiVersion: 'berth/v1', name: 'a', image: 'example/a:1', security: { hostNetwork: true } }), (err: unknown) => {
      assert.ok(err instanceof SpecError);
      assert.deepEqual(err.problems.map((p) => p.path), ['port']);
      assert.match(err.problems[0]!.message, /must be given with security\.hostNetwork/);
      return true;
    });
  });

  it('allows one instance only: every instance would listen on the same host port', () => {
    for (const scale of [{ max: 2 }, { min: 2 }, { min: 0, max: 3, replicas: 2 }]) {
      assert.throws(() => parseSpecObject({ apiVersion: 'berth/v1', name: 'a', image: 'example/a:1', port: 9000, scale, security: { hostNetwork: true } }), (err: unknown) => {
        assert.ok(err instanceof SpecError);
        assert.deepEqual(err.problems.map((p) => `${p.path}: ${p.message}`), ['scale: must be at most 1 instance with security.hostNetwork: every instance would listen on the same host port']);
        return true;
      }, JSON.stringify(scale));
    }
    assert.doesNotThrow(() => parseSpecObject({ apiVersion: 'berth/v1', name: 'a', image: 'example/a:1', port: 9000, scale: { min: 1, max: 1 }, security: { hostNetwork: true } }));
  });

  it('a config app on the admin port is refused at load, naming the field', async () => {
    const raw = { listen: '127.0.0.1:18080', admin: '127.0.0.1:18081', policy, apps: [{ apiVersion: 'berth/v1', name: 'a', image: 'example/a:1', port: 18081, security: { hostNetwork: true } }] };
    await assert.rejects(buildConfig(raw, '/tmp'), /apps\[0\]\.port: app "a" is on the host network, where port 18081 is the gateway's own \(admin\)/);
  });

  it('an apply is refused when a stored app outside the change holds the port, and stores nothing', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    await store.open();
    const desired = new DesiredIndex();
    const config = await buildConfig({ listen: '127.0.0.1:0', admin: '127.0.0.1:0', store: ':memory:', policy }, '/tmp');
    const service = new AppService({
      store,
      runtime: { ping: async () => undefined } as unknown as Runtime,
      activator: { controller: () => undefined, lastErrors: new Map(), status: () => undefined } as unknown as Activator,
      events: new StateEvents(),
      config: () => config,
      serialize: (change) => change(),
      desired,
      desiredChanged: async (_removed, _options, changed) => {
        for (const name of changed ?? []) desired.set((await store.getApp(name))!.spec);
      },
    });
    try {
      await service.apply([hostApp('first', 9000), hostApp('other', 9001)]);
      await assert.rejects(service.apply([hostApp('second', 9000)]), /app "second" is on the host network, where port 9000 is already app "first"'s/);
      assert.equal(await store.getApp('second'), undefined);
    } finally {
      await store.close();
    }
  });
});
