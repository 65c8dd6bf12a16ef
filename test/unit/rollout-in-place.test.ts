import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replacedInPlace } from '../../src/activator/rollout.js';
import { appSpec } from '../support/spec-fixture.js';

const security = (hostNetwork: boolean) => ({ privileged: false, capAdd: [], hostNetwork, hostPid: false });

// Only a revision that would listen on the very host port the running one holds must wait for it to go.
test('an update replaces in place only what shares the host port with the running instance', () => {
  const cases: Array<[string, { host: boolean; port: number }, { host: boolean; port: number }, boolean]> = [
    ['host network, same port', { host: true, port: 9000 }, { host: true, port: 9000 }, true],
    ['host network, another port', { host: true, port: 9000 }, { host: true, port: 9001 }, false],
    ['onto the host network', { host: false, port: 9000 }, { host: true, port: 9000 }, false],
    ['off the host network', { host: true, port: 9000 }, { host: false, port: 9000 }, false],
    ['bridge to bridge', { host: false, port: 8080 }, { host: false, port: 8080 }, false],
  ];
  for (const [what, before, after, inPlace] of cases) {
    const old = appSpec('web', { port: before.port, security: security(before.host) });
    const next = appSpec('web', { port: after.port, security: security(after.host) });
    assert.equal(replacedInPlace(next, old), inPlace, what);
  }
});
