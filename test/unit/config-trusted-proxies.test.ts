import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { buildConfig } from '../../src/config/load-config.js';
import { canonicalAddress } from '../../src/proxy/forwarded-headers.js';

test('trustedProxies takes addresses only: a range, a name or a port, which no peer address ever equals, is refused', async () => {
  for (const entry of ['10.0.0.0/8', 'fd00::/8', 'balancer.internal', '10.0.0.1:8080', '[::1]', 'fe80::1%eth0', '']) {
    await assert.rejects(buildConfig({ trustedProxies: [entry] }, tmpdir()), /trustedProxies\[0\]: .*an IP address/, entry);
  }
});

test('trustedProxies is kept in the form peer addresses are compared in (lower case, zeros compressed, IPv4 unmapped)', async () => {
  const config = await buildConfig({ trustedProxies: ['10.0.0.1', '2001:DB8:0:0:0:0:0:1', '::FFFF:10.0.0.2', '0:0:0:0:0:0:0:1'] }, tmpdir());
  assert.deepEqual(config.trustedProxies, ['10.0.0.1', '2001:db8::1', '10.0.0.2', '::1']);
});

test('canonicalAddress answers the form a socket reports, or undefined for what is no address', () => {
  assert.equal(canonicalAddress('192.168.1.1'), '192.168.1.1');
  assert.equal(canonicalAddress('2001:0db8:0000:0000:0001:0000:0000:0001'), '2001:db8::1:0:0:1');
  assert.equal(canonicalAddress('::ffff:c0a8:0101'), '192.168.1.1');
  assert.equal(canonicalAddress('::1'), '::1');
  assert.equal(canonicalAddress('10.0.0.0/8'), undefined);
  assert.equal(canonicalAddress('localhost'), undefined);
});
