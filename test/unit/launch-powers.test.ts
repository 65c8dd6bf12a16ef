import { test } from 'node:test';
import assert from 'node:assert/strict';
import type Docker from 'dockerode';
import { capabilityName, policyAllowance, specAllowance, type LaunchAllowance } from '../../src/runtime/launch-allowance.js';
import { powersBeyond, powersProblem } from '../../src/runtime/docker/launch-powers.js';
import { containerCreateOptions } from '../../src/runtime/docker/container-config.js';
import { appSpec } from '../support/spec-fixture.js';

const NONE: LaunchAllowance = { privileged: false, capabilities: [], hostNetwork: false, hostPid: false };
const ALL: LaunchAllowance = { privileged: true, capabilities: ['NET_ADMIN', 'SYS_TIME'], hostNetwork: true, hostPid: true };

test('powersBeyond: what a container\'s HostConfig gives beyond what it may have, table', () => {
  const cases: Array<[string, Docker.HostConfig, LaunchAllowance, string[]]> = [
    ['nothing', {}, NONE, []],
    ['berth\'s own defaults', { Init: true, SecurityOpt: ['no-new-privileges'], NetworkMode: 'bridge', IpcMode: 'private', PidMode: '', UTSMode: '', UsernsMode: '', Devices: [], Binds: null as unknown as string[] }, NONE, []],
    ['privileged, not allowed', { Privileged: true }, NONE, ['privileged']],
    ['privileged, allowed', { Privileged: true }, ALL, []],
    ['a capability with the engine\'s CAP_ prefix, allowed without it', { CapAdd: ['CAP_NET_ADMIN'] }, ALL, []],
    ['a capability not allowed, and ALL', { CapAdd: ['CAP_SYS_ADMIN', 'ALL', 'net_admin'] }, ALL, ['capability SYS_ADMIN', 'capability ALL']],
    ['the host network', { NetworkMode: 'host' }, NONE, ['the host network']],
    ['the host network, allowed', { NetworkMode: 'host' }, ALL, []],
    ['another container\'s network, even with everything allowed', { NetworkMode: 'container:abc' }, ALL, ['the network namespace of another container (container:abc)']],
    ['host PID', { PidMode: 'host' }, NONE, ['the host PID namespace']],
    ['another container\'s PID namespace', { PidMode: 'container:db' }, ALL, ['the PID namespace of another container (container:db)']],
    ['host IPC', { IpcMode: 'host' }, ALL, ['IPC namespace host']],
    ['host UTS and user namespaces', { UTSMode: 'host', UsernsMode: 'host' }, ALL, ['the host UTS namespace', 'the host user namespace']],
    ['a device', { Devices: [{ PathOnHost: '/dev/sda', PathInContainer: '/dev/sda', CgroupPermissions: 'rwm' }] }, ALL, ['host devices (/dev/sda)']],
    ['Binds, which bypass the mounts berth checks', { Binds: ['/:/host:ro'] }, ALL, ['bind mounts given as Binds (/:/host:ro)']],
    ['volumes of another container', { VolumesFrom: ['db'] }, ALL, ['the volumes of other containers (db)']],
    ['unconfined seccomp, AppArmor, masked paths; SELinux off', { SecurityOpt: ['seccomp=unconfined', 'apparmor:unconfined', 'systempaths=unconfined', 'label=disable', 'no-new-privileges'] }, ALL, ['security option seccomp=unconfined', 'security option apparmor:unconfined', 'security option systempaths=unconfined', 'security option label=disable']],
  ];
  for (const [name, host, allowed, want] of cases) assert.deepEqual(powersBeyond(host, allowed), want, name);
  assert.deepEqual(powersBeyond(undefined, NONE), []);
  const extra = { DeviceRequests: [{ Driver: 'nvidia' }], DeviceCgroupRules: ['c 1:3 mr'] } as unknown as Docker.HostConfig;
  assert.deepEqual(powersBeyond(extra, ALL), ['device requests', 'device cgroup rules (c 1:3 mr)']);
});

test('powersBeyond: nothing beyond for what berth itself creates from a spec, whatever its security asks', () => {
  const plain = appSpec('plain');
  const powerful = appSpec('powerful', { security: { privileged: true, capAdd: ['NET_ADMIN'], hostNetwork: true, hostPid: true } });
  for (const spec of [plain, powerful]) {
    const host = containerCreateOptions(spec, 0, { logConfig: { Type: 'json-file', Config: {} } }).HostConfig;
    assert.deepEqual(powersBeyond(host, specAllowance(spec)), [], spec.name);
  }
  assert.deepEqual(powersBeyond(containerCreateOptions(powerful, 0).HostConfig, specAllowance(plain)), ['privileged', 'capability NET_ADMIN', 'the host network', 'the host PID namespace']);
});

test('policyAllowance, capabilityName and powersProblem', () => {
  const allowance = policyAllowance({ images: [], networks: [], bindMountRoots: [], allowPrivileged: false, capabilities: ['NET_ADMIN'], allowHostNetwork: true, allowHostPid: false });
  assert.deepEqual(allowance, { privileged: false, capabilities: ['NET_ADMIN'], hostNetwork: true, hostPid: false });
  assert.equal(capabilityName(' cap_sys_time '), 'SYS_TIME');
  assert.equal(powersProblem('berth-a-0', [], 'the policy'), undefined);
  assert.match(powersProblem('berth-a-0', ['privileged', 'the host network'], 'the gateway\'s policy')!, /^container berth-a-0 has privileged, the host network, which the gateway's policy does not allow: .*remove it/);
});
