import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type Docker from 'dockerode';
import { hostAddresses, type AddressSettings } from '../../src/runtime/docker/addresses.js';
import { resolveDockerEndpoint } from '../../src/runtime/docker/client.js';
import { containerCreateOptions } from '../../src/runtime/docker/container-config.js';
import { publishedAddress } from '../../src/runtime/docker/instance.js';
import { parseSpecObject } from '../../src/spec/parse.js';

describe('hostAddresses', () => {
  const cases: Array<[string, string, AddressSettings, { publishHost: string; dialHost: string }]> = [
    ['unix socket', 'unix:///var/run/docker.sock', {}, { publishHost: '127.0.0.1', dialHost: '127.0.0.1' }],
    ['tcp on loopback is local', 'tcp://127.0.0.1:2375', {}, { publishHost: '127.0.0.1', dialHost: '127.0.0.1' }],
    ['tcp on localhost is local', 'tcp://localhost:2375', {}, { publishHost: '127.0.0.1', dialHost: '127.0.0.1' }],
    ['remote tcp: every address, dialled at the engine host', 'tcp://otherhost:2375', {}, { publishHost: '0.0.0.0', dialHost: 'otherhost' }],
    ['remote tcp with TLS', 'tcp://10.0.0.7:2376', {}, { publishHost: '0.0.0.0', dialHost: '10.0.0.7' }],
    ['upstreamHost wins', 'tcp://otherhost:2375', { upstreamHost: '10.0.0.9' }, { publishHost: '0.0.0.0', dialHost: '10.0.0.9' }],
    ['a specific publishHost is dialled', 'tcp://otherhost:2375', { publishHost: '10.0.0.5' }, { publishHost: '10.0.0.5', dialHost: '10.0.0.5' }],
    ['upstreamHost wins over publishHost', 'tcp://otherhost:2375', { publishHost: '10.0.0.5', upstreamHost: 'gw.internal' }, { publishHost: '10.0.0.5', dialHost: 'gw.internal' }],
    ['wildcard publishHost on a local engine', 'unix:///var/run/docker.sock', { publishHost: '0.0.0.0' }, { publishHost: '0.0.0.0', dialHost: '127.0.0.1' }],
    ['local engine, upstreamHost set', 'unix:///var/run/docker.sock', { upstreamHost: '172.17.0.1' }, { publishHost: '127.0.0.1', dialHost: '172.17.0.1' }],
  ];
  for (const [name, docker, settings, want] of cases) it(name, () => assert.deepEqual(hostAddresses(resolveDockerEndpoint(docker, {}), settings), want));

  it('follows DOCKER_HOST when the config names no engine', () => {
    assert.deepEqual(hostAddresses(resolveDockerEndpoint(undefined, { DOCKER_HOST: 'tcp://otherhost:2375' })), { publishHost: '0.0.0.0', dialHost: 'otherhost' });
  });
});

describe('publishedAddress and the publish binding', () => {
  const info = (networkMode: string, ports: Record<string, Array<{ HostIp: string; HostPort: string }>>) =>
    ({
      Config: { ExposedPorts: { '8080/tcp': {} } },
      HostConfig: { NetworkMode: networkMode, PortBindings: { '8080/tcp': [{ HostIp: '0.0.0.0', HostPort: '' }] } },
      NetworkSettings: { Ports: ports },
    }) as unknown as Docker.ContainerInspectInfo;
  const withImagePort80 = (i: Docker.ContainerInspectInfo, labels: Record<string, string>) =>
    ({ ...i, Config: { ExposedPorts: { '80/tcp': {}, '8080/tcp': {} }, Labels: labels } }) as unknown as Docker.ContainerInspectInfo;
  const cases: Array<[string, Docker.ContainerInspectInfo, string, { host: string; port: number } | undefined]> = [
    ['loopback binding', info('bridge', { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '49000' }] }), '127.0.0.1', { host: '127.0.0.1', port: 49000 }],
    ['wildcard binding dialled at the engine host', info('bridge', { '8080/tcp': [{ HostIp: '::', HostPort: '49002' }, { HostIp: '0.0.0.0', HostPort: '49001' }] }), 'otherhost', { host: 'otherhost', port: 49001 }],
    ['specific address binding', info('bridge', { '8080/tcp': [{ HostIp: '10.0.0.5', HostPort: '49003' }] }), '10.0.0.5', { host: '10.0.0.5', port: 49003 }],
    ['host network: the app port at the dial host', info('host', {}), 'otherhost', { host: 'otherhost', port: 8080 }],
    ['not published yet', info('bridge', { '8080/tcp': [] }), '127.0.0.1', undefined],
    // The engine lists the image's exposed ports too, in name order: "80/tcp" before the app's "8080/tcp".
    ['host network: the labelled app port, not the image\'s first', withImagePort80(info('host', {}), { 'berth.host-port': '8080' }), '127.0.0.1', { host: '127.0.0.1', port: 8080 }],
    ['host network, made before the label: the first exposed', withImagePort80(info('host', {}), {}), '127.0.0.1', { host: '127.0.0.1', port: 80 }],
  ];
  for (const [name, i, dialHost, want] of cases) it(name, () => assert.deepEqual(publishedAddress(i, dialHost), want));

  it('create options label the app port of a host-network container, and only of one', () => {
    const onHost = parseSpecObject({ apiVersion: 'berth/v1', name: 'web', image: 'web:1', port: 8080, security: { hostNetwork: true } });
    assert.equal(containerCreateOptions(onHost, 0).Labels?.['berth.host-port'], '8080');
    assert.equal(containerCreateOptions(parseSpecObject({ apiVersion: 'berth/v1', name: 'web', image: 'web:1', port: 8080 }), 0).Labels?.['berth.host-port'], undefined);
  });

  it('create options bind the port on publishHost', () => {
    const app = parseSpecObject({ apiVersion: 'berth/v1', name: 'web', image: 'web:1', port: 8080 });
    assert.deepEqual(containerCreateOptions(app, 0).HostConfig?.PortBindings, { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] });
    assert.deepEqual(containerCreateOptions(app, 0, { publishHost: '0.0.0.0' }).HostConfig?.PortBindings, { '8080/tcp': [{ HostIp: '0.0.0.0', HostPort: '' }] });
  });
});
