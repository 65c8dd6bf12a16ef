import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { containerSpecHash } from '../../src/spec/hash.js';
import type { AppSpec, ResourcesSpec } from '../../src/spec/types.js';
import { BUILT_IN_RESOURCES, containerCreateOptions, volumeCreateOptions } from '../../src/runtime/docker/container-config.js';
import { appSpec } from '../support/spec-fixture.js';

function spec(overrides: Partial<AppSpec> = {}): AppSpec {
  return appSpec('hello', overrides, 'berth-example/hello:latest');
}

describe('containerCreateOptions', () => {
  it('names the container berth-<app>-<index> and runs the spec image', () => {
    const o = containerCreateOptions(spec(), 2);
    assert.equal(o.name, 'berth-hello-2');
    assert.equal(o.Image, 'berth-example/hello:latest');
    assert.equal(o.Tty, false);
    assert.equal(o.Cmd, undefined);
  });

  it('labels the container as berth-managed with app, index and container spec hash', () => {
    const s = spec();
    const o = containerCreateOptions(s, 0);
    assert.deepEqual(o.Labels, {
      'berth.managed': 'true',
      'berth.app': 'hello',
      'berth.index': '0',
      'berth.spec-hash': containerSpecHash(s),
    });
  });

  it('keeps spec and extra labels but never lets them override berth.*', () => {
    const s = spec({ labels: { team: 'a', 'berth.managed': 'false', 'berth.app': 'evil' } });
    const o = containerCreateOptions(s, 1, { extraLabels: { 'berth.test': 'true', 'berth.index': '9' } });
    assert.equal(o.Labels?.['team'], 'a');
    assert.equal(o.Labels?.['berth.test'], 'true');
    assert.equal(o.Labels?.['berth.managed'], 'true');
    assert.equal(o.Labels?.['berth.app'], 'hello');
    assert.equal(o.Labels?.['berth.index'], '1');
  });

  it('runs an init process and restarts nothing by itself', () => {
    const h = containerCreateOptions(spec(), 0).HostConfig;
    assert.equal(h?.Init, true);
    assert.deepEqual(h?.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
  });

  it('publishes only the app port, on 127.0.0.1, with an ephemeral host port', () => {
    const o = containerCreateOptions(spec({ port: 3000 }), 0);
    assert.deepEqual(o.ExposedPorts, { '3000/tcp': {} });
    assert.deepEqual(o.HostConfig?.PortBindings, { '3000/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] });
  });

  it('passes env as a sorted KEY=value array, values verbatim', () => {
    const o = containerCreateOptions(spec({ env: { B: '2', A: 'x=y z', EMPTY: '' } }), 0);
    assert.deepEqual(o.Env, ['A=x=y z', 'B=2', 'EMPTY=']);
  });

  it('passes a command override', () => {
    assert.deepEqual(containerCreateOptions(spec({ command: ['node', 'app.js'] }), 0).Cmd, ['node', 'app.js']);
  });

  it('mounts the named volume berth-<app>-data at spec.volume, and bind mounts', () => {
    const o = containerCreateOptions(
      spec({ volume: '/data', mounts: [{ source: '/srv/in', target: '/in', readOnly: true }] }),
      0,
    );
    assert.deepEqual(o.HostConfig?.Mounts, [
      { Type: 'volume', Source: 'berth-hello-data', Target: '/data', ReadOnly: false },
      { Type: 'bind', Source: '/srv/in', Target: '/in', ReadOnly: true },
    ]);
  });

  it('mounts nothing without volume or mounts', () => {
    assert.deepEqual(containerCreateOptions(spec(), 0).HostConfig?.Mounts, []);
  });

  it('maps resources to Memory, NanoCpus and PidsLimit', () => {
    const h = containerCreateOptions(spec({ resources: { memoryBytes: 256 * 1024 * 1024, cpus: 0.5, pids: 100 } }), 0).HostConfig;
    assert.equal(h?.Memory, 268435456);
    assert.equal(h?.NanoCpus, 500_000_000);
    assert.equal(h?.PidsLimit, 100);
  });

  it('gives every container memory and PID limits: the spec\'s, else the config\'s defaults, else the built-in ones (no CPU cap)', () => {
    const MiB = 2 ** 20;
    const cases: Array<[string, AppSpec['resources'], ResourcesSpec | undefined, { Memory?: number; NanoCpus?: number; PidsLimit?: number }]> = [
      ['nothing set anywhere: built-in', {}, undefined, { Memory: 512 * MiB, PidsLimit: 512 }],
      ['empty config defaults: built-in', {}, {}, { Memory: 512 * MiB, PidsLimit: 512 }],
      ['config memory only', {}, { memoryBytes: 1024 * MiB }, { Memory: 1024 * MiB, PidsLimit: 512 }],
      ['config pids and cpus', {}, { pids: 64, cpus: 1.5 }, { Memory: 512 * MiB, NanoCpus: 1_500_000_000, PidsLimit: 64 }],
      ['spec wins over config', { memoryBytes: 64 * MiB, pids: 10 }, { memoryBytes: 1024 * MiB, pids: 64 }, { Memory: 64 * MiB, PidsLimit: 10 }],
      ['spec cpus only: limits still default', { cpus: 0.25 }, undefined, { Memory: 512 * MiB, NanoCpus: 250_000_000, PidsLimit: 512 }],
      ['spec raises above the built-in', { memoryBytes: 4096 * MiB, pids: 4096 }, undefined, { Memory: 4096 * MiB, PidsLimit: 4096 }],
    ];
    for (const [what, resources, defaults, want] of cases) {
      const h = containerCreateOptions(spec({ resources }), 0, defaults ? { defaultResources: defaults } : {}).HostConfig!;
      assert.deepEqual({ Memory: h.Memory, NanoCpus: h.NanoCpus, PidsLimit: h.PidsLimit }, { Memory: undefined, NanoCpus: undefined, PidsLimit: undefined, ...want }, what);
    }
    assert.deepEqual(BUILT_IN_RESOURCES, { memoryBytes: 512 * MiB, pids: 512 });
  });

  it("holds a CPU limit to the engine host's CPUs, which the engine refuses to exceed (the spec hash stays the spec's)", () => {
    const cases: Array<[string, number, number | undefined, number]> = [
      ['above the host: all its CPUs', 64, 4, 4_000_000_000],
      ['within the host: as asked', 1.5, 4, 1_500_000_000],
      ['host unknown: as asked', 64, undefined, 64_000_000_000],
    ];
    for (const [what, cpus, hostCpus, want] of cases) {
      const o = containerCreateOptions(spec({ resources: { cpus } }), 0, { hostCpus });
      assert.equal(o.HostConfig?.NanoCpus, want, what);
      assert.equal(o.Labels?.['berth.spec-hash'], containerCreateOptions(spec({ resources: { cpus } }), 0).Labels?.['berth.spec-hash'], what);
    }
  });

  it('keeps the spec hash when only gateway-side fields change, and changes it with env', () => {
    const hash = (s: AppSpec) => containerCreateOptions(s, 0).Labels?.['berth.spec-hash'];
    const base = spec();
    assert.equal(hash(base), hash(spec({ routes: [{ host: 'x.example.com', stripPrefix: true }], idleTimeoutMs: 1, scale: { min: 1, max: 3, replicas: 1 } })));
    assert.notEqual(hash(base), hash(spec({ env: { A: '1' } })));
  });
});

describe('volumeCreateOptions', () => {
  it('names the volume berth-<app>-data and labels it as berth-managed', () => {
    assert.deepEqual(volumeCreateOptions('hello', { extraLabels: { 'berth.test': 'true' } }), {
      Name: 'berth-hello-data',
      Driver: 'local',
      Labels: { 'berth.test': 'true', 'berth.managed': 'true', 'berth.app': 'hello' },
    });
  });
});

describe('launch security', () => {
  it('keeps no-new-privileges whatever the spec asks for', () => {
    for (const security of [
      { privileged: true, capAdd: ['SYS_ADMIN'], hostNetwork: true, hostPid: true },
      { privileged: false, capAdd: [], hostNetwork: false, hostPid: false },
    ]) {
      const host = containerCreateOptions(spec({ security, labels: { 'com.docker.security': 'x' } }), 0).HostConfig!;
      assert.deepEqual(host.SecurityOpt, ['no-new-privileges']);
    }
  });

  it('always sets no-new-privileges and grants nothing by default', () => {
    const host = containerCreateOptions(spec(), 0).HostConfig!;
    assert.deepEqual(host.SecurityOpt, ['no-new-privileges']);
    assert.equal(host.Privileged, undefined);
    assert.equal(host.CapAdd, undefined);
    assert.equal(host.NetworkMode, undefined);
    assert.equal(host.PidMode, undefined);
  });

  it('maps the powers a spec asks for (once the policy allowed them)', () => {
    const host = containerCreateOptions(spec({ security: { privileged: true, capAdd: ['NET_ADMIN'], hostNetwork: true, hostPid: true } }), 0).HostConfig!;
    assert.equal(host.Privileged, true);
    assert.deepEqual(host.CapAdd, ['NET_ADMIN']);
    assert.equal(host.NetworkMode, 'host');
    assert.equal(host.PidMode, 'host');
    assert.equal(host.PortBindings, undefined, 'nothing to publish on the host network');
  });
});
