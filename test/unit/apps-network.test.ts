import { test } from 'node:test';
import assert from 'node:assert/strict';
import type Docker from 'dockerode';
import { appsNetworkOf, needsAppsNetwork } from '../../src/runtime/docker/apps-network.js';

test('appsNetworkOf: the default, a name of the config, and none', () => {
  const cases: Array<[string | undefined, string | undefined]> = [
    [undefined, 'berth-apps'],
    ['team-a', 'team-a'],
    ['none', undefined],
  ];
  for (const [setting, expected] of cases) assert.equal(appsNetworkOf(setting), expected, String(setting));
});

test('needsAppsNetwork: a container off the network is put on it before its start, unless on the host network', () => {
  const info = (networks: string[], mode = 'bridge') => ({ HostConfig: { NetworkMode: mode }, NetworkSettings: { Networks: Object.fromEntries(networks.map((n) => [n, {}])) } }) as unknown as Docker.ContainerInspectInfo;
  const cases: Array<[string, Docker.ContainerInspectInfo, boolean]> = [
    ['only the default bridge', info(['bridge']), true],
    ['already on it', info(['bridge', 'berth-apps']), false],
    ['on the host network', info([], 'host'), false],
  ];
  for (const [what, container, expected] of cases) assert.equal(needsAppsNetwork(container, 'berth-apps'), expected, what);
});
