import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { buildConfig } from '../../src/config/load-config.js';
import { canonicalAddress } from '../../src/proxy/forwarded-headers.js';
import { TrustedPeers } from '../../src/proxy/trusted-peers.js';

test('trustedProxies takes addresses and CIDR ranges: a name, a port or a bad range, which no peer address ever matches, is refused', async () => {
  for (const entry of ['balancer.internal', '10.0.0.1:8080', '[::1]', 'fe80::1%eth0', '', '10.0.0.0/33', '10.0.0.0/', '10.0.0/8', 'fd00::/129', 'fd00::/-1', 'name/8', '::ffff:10.0.0.0/64', '::ffff:10.0.0.0/129']) {
    await assert.rejects(buildConfig({ trustedProxies: [entry] }, tmpdir()), /trustedProxies\[0\]: .*neither an IP address nor a CIDR range/, entry);
  }
});

test('a range is kept with its network in the compared form', async () => {
  const config = await buildConfig({ trustedProxies: ['10.0.0.0/8', 'FD00:0:0::/8', '::ffff:10.1.0.0/16'] }, tmpdir());
  assert.deepEqual(config.trustedProxies, ['10.0.0.0/8', 'fd00::/8', '10.1.0.0/16']);
});

test('an IPv4-mapped range written with its IPv6 prefix is the IPv4 range it maps (it was refused as no range at all)', async () => {
  const config = await buildConfig({ trustedProxies: ['::ffff:10.0.0.0/104', '::FFFF:192.0.2.0/120', '0:0:0:0:0:ffff:172.16.0.0/108', '::ffff:0:0/96'] }, tmpdir());
  assert.deepEqual(config.trustedProxies, ['10.0.0.0/8', '192.0.2.0/24', '172.16.0.0/12', '0.0.0.0/0']);
  const peers = new TrustedPeers(config.trustedProxies.slice(0, 3));
  assert.equal(peers.has('10.9.8.7'), true);
  assert.equal(peers.has('11.0.0.1'), false);
  assert.equal(peers.has('192.0.2.200'), true);
  assert.equal(peers.has('192.0.3.1'), false);
  assert.equal(peers.has('172.31.255.255'), true);
  assert.equal(peers.has('172.32.0.0'), false);
});

test('TrustedPeers: addresses and ranges, each peer checked against both', () => {
  const peers = new TrustedPeers(['192.0.2.7', '10.0.0.0/8', 'fd00::/8', '2001:db8::1']);
  const cases: Array<[string, boolean]> = [
    ['192.0.2.7', true],
    ['192.0.2.8', false],
    ['10.200.3.4', true],
    ['11.0.0.1', false],
    ['fd12::5', true],
    ['fe80::1', false],
    ['2001:db8::1', true],
    ['2001:db8::2', false],
    ['', false],
    ['not-an-address', false],
  ];
  // Twice: the second round answers from the last-peer memory where it can.
  for (let round = 0; round < 2; round++) for (const [peer, trusted] of cases) assert.equal(peers.has(peer), trusted, `${peer} (round ${round})`);
  assert.equal(new TrustedPeers([]).empty, true);
  assert.equal(new TrustedPeers(['10.0.0.0/8']).empty, false);
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

test('an IPv6 range trusts an IPv4 peer only when it lies inside ::ffff:0:0/96 (::/0 trusted every IPv4 client too)', async () => {
  const cases: Array<[entry: string, peer: string, trusted: boolean]> = [
    ['::/0', '203.0.113.9', false],
    ['::/0', '2001:db8::1', true],
    ['::/64', '10.0.0.1', false],
    ['::/64', '::1', true],
    ['::/80', '192.0.2.1', false],
    ['::ffff:0:0/96', '203.0.113.9', true],
    ['::ffff:10.0.0.0/104', '10.1.2.3', true],
    ['::ffff:10.0.0.0/104', '11.1.2.3', false],
    ['10.0.0.0/8', '10.1.2.3', true],
    ['10.0.0.0/8', '::ffff:10.1.2.3', true],
    ['fd00::/8', '10.1.2.3', false],
  ];
  for (const [entry, peer, trusted] of cases) {
    const config = await buildConfig({ trustedProxies: [entry] }, tmpdir());
    assert.equal(new TrustedPeers(config.trustedProxies).has(peer), trusted, `${entry} ${peer}`);
  }
});
