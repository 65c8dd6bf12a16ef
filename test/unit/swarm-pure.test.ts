// The decisions of the Swarm runtime, without a swarm: spec → service, service and
// tasks → instance, two task polls → events, node → dial address.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { containerSpecHash } from '../../src/spec/hash.js';
import { boundedLogConfig } from '../../src/runtime/docker/log-config.js';
import { declaresHealthcheck } from '../../src/runtime/docker/image.js';
import { nodeAddress } from '../../src/runtime/swarm/node-address.js';
import { LABEL_HEALTHCHECK, LABEL_LEGACY_TEMPLATE_HASH, LABEL_NODE, LABEL_TEMPLATE_HASH, legacyTemplateHash, drifted, serviceSpec, swarmRefusal, taskCpuCeiling, templateHash } from '../../src/runtime/swarm/service-spec.js';
import { publishedPort, runningTask, toInstance } from '../../src/runtime/swarm/service-instance.js';
import { calledOff, unschedulable, unschedulableReason } from '../../src/runtime/swarm/start-verdict.js';
import { stillStopping } from '../../src/runtime/swarm/stop-verdict.js';
import { diffTasks, endedTasks, exitCodeOf } from '../../src/runtime/swarm/task-diff.js';
import type { SwarmNode, SwarmService, SwarmTask } from '../../src/runtime/swarm/wire.js';
import { appSpec } from '../support/spec-fixture.js';

type Loose = Record<string, any>;

describe('serviceSpec', () => {
  const base = appSpec('web', { env: { B: '2', A: '1' }, command: ['serve', '--fast'], labels: { team: 'x', 'berth.app': 'spoofed' } });
  const spec = serviceSpec(base, 3, { replicas: 0, extraLabels: { 'berth.test': 'true' } }) as Loose;

  const cases: [string, () => void][] = [
    ['is named like the container would be', () => assert.equal(spec.Name, 'berth-web-3')],
    ['carries berth labels that win over the spec’s own', () => assert.deepEqual([spec.Labels['berth.managed'], spec.Labels['berth.app'], spec.Labels['berth.index'], spec.Labels['berth.test'], spec.Labels.team], ['true', 'web', '3', 'true', 'x'])],
    ['labels its containers too', () => assert.equal(spec.TaskTemplate.ContainerSpec.Labels['berth.managed'], 'true')],
    ['records the spec hash', () => assert.equal(spec.Labels['berth.spec-hash'], containerSpecHash(base))],
    ['starts with the replicas asked for', () => assert.deepEqual(spec.Mode, { Replicated: { Replicas: 0 } })],
    ['sorts the env', () => assert.deepEqual(spec.TaskTemplate.ContainerSpec.Env, ['A=1', 'B=2'])],
    ['keeps the image ENTRYPOINT: the command is Args', () => assert.deepEqual([spec.TaskTemplate.ContainerSpec.Args, spec.TaskTemplate.ContainerSpec.Command], [['serve', '--fast'], undefined])],
    ['publishes the port in host mode at a port the node picks', () => assert.deepEqual(spec.EndpointSpec.Ports, [{ Protocol: 'tcp', TargetPort: 8080, PublishMode: 'host' }])],
    ['needs no IPVS: DNS round robin', () => assert.equal(spec.EndpointSpec.Mode, 'dnsrr')],
    ['updates start-first and rolls back on failure', () => assert.deepEqual([spec.UpdateConfig.Order, spec.UpdateConfig.FailureAction, spec.RollbackConfig.Order], ['start-first', 'rollback', 'start-first'])],
    ['gets the built-in limits', () => assert.deepEqual(spec.TaskTemplate.Resources.Limits, { MemoryBytes: 512 * 2 ** 20, Pids: 512 })],
    ['is never privileged and cannot gain privileges', () => assert.deepEqual(spec.TaskTemplate.ContainerSpec.Privileges, { NoNewPrivileges: true })],
    ['is free to run on any node without a volume', () => assert.deepEqual(spec.TaskTemplate.Placement.Constraints, [])],
  ];
  for (const [name, check] of cases) it(name, check);

  it('maps resources and added capabilities', () => {
    const s = serviceSpec(appSpec('r', { resources: { memoryBytes: 1024, cpus: 0.5, pids: 7 }, security: { privileged: false, capAdd: ['NET_ADMIN'], hostNetwork: false, hostPid: false } }), 0, { replicas: 1 }) as Loose;
    assert.deepEqual(s.TaskTemplate.Resources.Limits, { MemoryBytes: 1024, NanoCPUs: 5e8, Pids: 7 });
    assert.deepEqual(s.TaskTemplate.ContainerSpec.CapabilityAdd, ['NET_ADMIN']);
  });

  it('caps the CPU limit at the CPUs of the nodes that may run it, as one engine caps it at its host’s', () => {
    // A node refuses a limit above its CPUs: the task was rejected at every wake ("Range of CPUs is from 0.01 to 2.00").
    const asked = appSpec('c', { resources: { cpus: 8 } });
    assert.equal((serviceSpec(asked, 0, { replicas: 1, hostCpus: 2 }) as Loose).TaskTemplate.Resources.Limits.NanoCPUs, 2e9);
    assert.equal((serviceSpec(asked, 0, { replicas: 1, hostCpus: undefined }) as Loose).TaskTemplate.Resources.Limits.NanoCPUs, 8e9, 'unknown: as asked');
    assert.equal((serviceSpec(appSpec('c', { resources: { cpus: 0.5 } }), 0, { replicas: 1, hostCpus: 2 }) as Loose).TaskTemplate.Resources.Limits.NanoCPUs, 5e8);
    const node = (id: string, cpus?: number): SwarmNode => ({ ID: id, Description: { Hostname: id, ...(cpus === undefined ? {} : { Resources: { NanoCPUs: cpus * 1e9 } }) } });
    const nodes = [node('big', 16), node('small', 2), node('mute')];
    assert.equal(taskCpuCeiling(nodes), 2, 'any node may take the task: the smallest bounds it');
    assert.equal(taskCpuCeiling(nodes, 'big'), 16, 'an app pinned to a node: that node’s');
    assert.equal(taskCpuCeiling([node('mute')]), undefined);
    assert.equal(taskCpuCeiling([]), undefined);
  });

  it('pins an app with a volume to its node, and mounts the labelled volume', () => {
    const s = serviceSpec(appSpec('db', { volume: '/data' }), 0, { replicas: 0, pinnedNode: 'node-1' }) as Loose;
    assert.deepEqual(s.TaskTemplate.Placement.Constraints, ['node.id==node-1']);
    assert.equal(s.Labels[LABEL_NODE], 'node-1');
    assert.deepEqual(s.TaskTemplate.ContainerSpec.Mounts[0], { Type: 'volume', Source: 'berth-db-data', Target: '/data', ReadOnly: false, VolumeOptions: { Labels: { 'berth.managed': 'true', 'berth.app': 'db' } } });
  });

  it('joins the spec’s (overlay) network, aliased by the app name', () => {
    const s = serviceSpec(appSpec('n', { network: 'shared' }), 0, { replicas: 0 }) as Loose;
    assert.deepEqual(s.TaskTemplate.Networks, [{ Target: 'shared', Aliases: ['n'] }]);
  });

  it("bounds the tasks' json-file logs as a container's, and leaves any other default driver alone", () => {
    const bounded = serviceSpec(appSpec('l'), 0, { replicas: 0, logConfig: boundedLogConfig('json-file') }) as Loose;
    assert.deepEqual(bounded.TaskTemplate.LogDriver, { Name: 'json-file', Options: { 'max-size': '20m', 'max-file': '5' } });
    const journald = serviceSpec(appSpec('l'), 0, { replicas: 0, logConfig: boundedLogConfig('journald') }) as Loose;
    assert.equal(journald.TaskTemplate.LogDriver, undefined);
  });

  it('records the hash of its template, and is not drifted as written', () => {
    assert.equal(spec.Labels[LABEL_TEMPLATE_HASH], templateHash(spec));
    assert.equal(drifted(spec), false);
  });

  const edits: [string, (c: Loose) => void][] = [
    ['--image', (c) => (c.Image = 'other:1')],
    ['--env-add', (c) => (c.Env = [...c.Env, 'X=1'])],
    ['--env-rm', (c) => (c.Env = c.Env.slice(1))],
    ['--args', (c) => (c.Args = ['sh'])],
  ];
  for (const [flag, edit] of edits) {
    it(`is drifted after docker service update ${flag}, which keeps every label`, () => {
      const changed = structuredClone(spec);
      edit(changed.TaskTemplate.ContainerSpec);
      assert.equal(drifted(changed), true);
    });
  }

  // Beyond the image, env and args: what else `docker service update` changes that matters to the app.
  const withNetwork = serviceSpec(appSpec('n', { network: 'appsnet', mounts: [{ source: '/srv/a', target: '/a', readOnly: true }] }), 0, { replicas: 1 }) as Loose;
  const serviceEdits: [string, (s: Loose) => void][] = [
    ['--constraint-add node.role==manager', (x) => (x.TaskTemplate.Placement.Constraints = ['node.role==manager'])],
    ['--limit-memory 8m', (x) => (x.TaskTemplate.Resources.Limits.MemoryBytes = 8 * 2 ** 20)],
    ['--limit-cpu 0.01', (x) => (x.TaskTemplate.Resources.Limits.NanoCPUs = 1e7)],
    ['--reserve-memory 64g', (x) => (x.TaskTemplate.Resources.Reservations = { MemoryBytes: 64 * 2 ** 30 })],
    ['--mount-rm /a', (x) => (x.TaskTemplate.ContainerSpec.Mounts = [])],
    ['--mount-add type=bind,src=/etc,dst=/host-etc', (x) => x.TaskTemplate.ContainerSpec.Mounts.push({ Type: 'bind', Source: '/etc', Target: '/host-etc' })],
    ['--container-label-rm berth.managed', (x) => delete x.TaskTemplate.ContainerSpec.Labels['berth.managed']],
    ['--label-add berth.node=elsewhere', (x) => (x.Labels['berth.node'] = 'elsewhere')],
    ['--network-rm appsnet', (x) => (x.TaskTemplate.Networks = [])],
    ['--network-add other', (x) => x.TaskTemplate.Networks.push({ Target: 'other' })],
    ['--publish-rm 8080', (x) => (x.EndpointSpec.Ports = [])],
    ['--publish-add 9000:8080', (x) => (x.EndpointSpec.Ports = [{ Protocol: 'tcp', TargetPort: 8080, PublishedPort: 9000, PublishMode: 'ingress' }])],
    ['--cap-add SYS_ADMIN', (x) => (x.TaskTemplate.ContainerSpec.CapabilityAdd = ['SYS_ADMIN'])],
    ['--user root', (x) => (x.TaskTemplate.ContainerSpec.User = 'root')],
    ['--entrypoint sh', (x) => (x.TaskTemplate.ContainerSpec.Command = ['sh'])],
    ['--restart-condition none', (x) => (x.TaskTemplate.RestartPolicy.Condition = 'none')],
    // Confinements switched off through the API (Privileges), as launch-powers.ts refuses of a container.
    ['Privileges.Seccomp unconfined', (x) => (x.TaskTemplate.ContainerSpec.Privileges = { NoNewPrivileges: true, Seccomp: { Mode: 'unconfined' } })],
    ['Privileges.Seccomp custom', (x) => (x.TaskTemplate.ContainerSpec.Privileges = { Seccomp: { Mode: 'custom', Profile: '{}' } })],
    ['Privileges.AppArmor disabled', (x) => (x.TaskTemplate.ContainerSpec.Privileges = { AppArmor: { Mode: 'disabled' } })],
    ['Privileges.SELinuxContext disabled', (x) => (x.TaskTemplate.ContainerSpec.Privileges = { SELinuxContext: { Disable: true } })],
  ];
  for (const [flag, edit] of serviceEdits) {
    it(`is drifted after docker service update ${flag}`, () => {
      assert.equal(drifted(withNetwork), false);
      const changed = structuredClone(withNetwork);
      edit(changed);
      assert.equal(drifted(changed), true);
    });
  }

  it('reads back as written in the form the engine keeps it (network ids, ReadOnly false dropped, NoNewPrivileges not kept)', () => {
    const read = structuredClone(withNetwork);
    read.TaskTemplate.Networks[0].Target = '6n5j0wbhr23foo4krxfmvrert';
    const mount = read.TaskTemplate.ContainerSpec.Mounts[0];
    read.TaskTemplate.ContainerSpec.Mounts[0] = { ...mount, ReadOnly: true };
    read.TaskTemplate.ContainerSpec.Privileges = { CredentialSpec: null, SELinuxContext: null, Seccomp: { Mode: 'default' }, AppArmor: { Mode: 'default' } };
    read.TaskTemplate.ContainerSpec.Isolation = 'default';
    read.TaskTemplate.RestartPolicy.MaxAttempts = 0;
    read.TaskTemplate.ForceUpdate = 0;
    read.TaskTemplate.Runtime = 'container';
    read.Mode = { Replicated: { Replicas: 3 } };
    read.Labels['berth.spec-hash'] = 'written-after-the-hash';
    assert.equal(drifted(read), false);
    const plain = structuredClone(spec);
    for (const m of plain.TaskTemplate.ContainerSpec.Mounts) delete m.ReadOnly;
    assert.equal(drifted(plain), false);
  });

  it('judges a service an older berth wrote (the image, env and args hash) by those alone: an upgrade restarts nothing', () => {
    const old = structuredClone(spec);
    delete old.Labels[LABEL_TEMPLATE_HASH];
    old.Labels[LABEL_LEGACY_TEMPLATE_HASH] = legacyTemplateHash(old.TaskTemplate);
    assert.equal(drifted(old), false);
    old.TaskTemplate.ContainerSpec.Image = 'other:1';
    assert.equal(drifted(old), true);
  });

  it('takes a service of an older berth (no template hash) as it is', () => {
    const old = structuredClone(spec);
    delete old.Labels[LABEL_TEMPLATE_HASH];
    old.TaskTemplate.ContainerSpec.Image = 'other:1';
    assert.equal(drifted(old), false);
  });

  const refused: [string, Parameters<typeof appSpec>[1], RegExp][] = [
    ['privileged', { security: { privileged: true, capAdd: [], hostNetwork: false, hostPid: false } }, /cannot run privileged/],
    ['host network', { security: { privileged: false, capAdd: [], hostNetwork: true, hostPid: false } }, /hostNetwork is not supported/],
    ['host pid', { security: { privileged: false, capAdd: [], hostNetwork: false, hostPid: true } }, /hostPid is not supported/],
    ['input as a file', { input: { as: 'file', path: '/in.json', json: '{}' } as never }, /input.as file is not supported/],
  ];
  for (const [name, overrides, message] of refused) {
    it(`refuses ${name}`, () => {
      const app = appSpec('bad', overrides);
      assert.match(swarmRefusal(app) ?? '', message);
      assert.throws(() => serviceSpec(app, 0, { replicas: 0 }), message);
    });
  }
});

function service(replicas: number, labels: Record<string, string> = {}): SwarmService {
  return {
    ID: 'svc1',
    Version: { Index: 1 },
    Spec: { Name: 'berth-web-0', Labels: { 'berth.managed': 'true', 'berth.app': 'web', 'berth.index': '0', 'berth.spec-hash': 'h1', ...labels }, Mode: { Replicated: { Replicas: replicas } }, EndpointSpec: { Ports: [{ TargetPort: 8080 }] } } as SwarmService['Spec'],
  };
}

function task(id: string, state: SwarmTask['Status']['State'], options: { node?: string; port?: number; at?: string; desired?: string; created?: string } = {}): SwarmTask {
  return {
    ID: id,
    ...(options.created ? { CreatedAt: options.created } : {}),
    ServiceID: 'svc1',
    NodeID: options.node ?? 'n1',
    DesiredState: options.desired ?? 'running',
    Status: { State: state, Timestamp: options.at ?? '2026-01-01T00:00:00Z', PortStatus: options.port ? { Ports: [{ TargetPort: 8080, PublishedPort: options.port, PublishMode: 'host' }] } : {} },
  };
}

describe('toInstance', () => {
  const addresses: Record<string, string> = { n1: '10.0.0.1', n2: '10.0.0.2' };
  const addressOf = (n: string) => addresses[n];
  const cases: [string, SwarmService, SwarmTask[], Partial<{ state: string; address: unknown }>][] = [
    ['0 replicas: stopped', service(0), [], { state: 'exited', address: undefined }],
    ['asked to run, no task yet: restarting', service(1), [], { state: 'restarting', address: undefined }],
    ['task placed but not running: restarting', service(1), [task('t1', 'preparing')], { state: 'restarting' }],
    ['running without a published port yet: restarting', service(1), [task('t1', 'running')], { state: 'restarting' }],
    ['running on a node without an address: restarting', service(1), [task('t1', 'running', { node: 'n9', port: 30001 })], { state: 'restarting' }],
    ['running: dialled at its node', service(1), [task('t1', 'running', { node: 'n2', port: 30001 })], { state: 'running', address: { host: '10.0.0.2', port: 30001 } }],
    [
      'scaled up outside berth: the task it already dials stays the one, whichever came up last',
      service(1),
      [
        task('first', 'running', { node: 'n2', port: 30002, created: '2026-01-01T00:00:00Z', at: '2026-01-01T00:00:01Z' }),
        task('added', 'running', { node: 'n1', port: 30001, created: '2026-01-01T00:00:05Z', at: '2026-01-01T00:00:06Z' }),
      ],
      { state: 'running', address: { host: '10.0.0.2', port: 30002 } },
    ],
    [
      'moving: the task the Swarm shuts down gives way to the new one',
      service(1),
      [task('old', 'running', { node: 'n1', port: 30001, at: '2026-01-01T00:00:00Z', desired: 'shutdown' }), task('new', 'running', { node: 'n2', port: 30002, at: '2026-01-01T00:00:05Z' })],
      { state: 'running', address: { host: '10.0.0.2', port: 30002 } },
    ],
    ['a task being shut down does not count', service(1), [task('t1', 'running', { port: 30001, desired: 'shutdown' })], { state: 'restarting' }],
    ['its task crashed, none runs: exited', service(1), [task('t1', 'failed', { desired: 'shutdown' }), task('t2', 'pending', { at: '2026-01-01T00:00:09Z' })], { state: 'exited', address: undefined }],
    ['a crash in the history does not hide the running task', service(1), [task('t1', 'failed', { desired: 'shutdown', at: '2026-01-01T00:00:09Z' }), task('t2', 'running', { port: 30003 })], { state: 'running', address: { host: '10.0.0.1', port: 30003 } }],
  ];
  for (const [name, svc, tasks, want] of cases) {
    it(name, () => {
      const got = toInstance(svc, tasks, addressOf);
      assert.equal(got.state, want.state);
      if ('address' in want) assert.deepEqual(got.address, want.address);
      assert.deepEqual([got.id, got.name, got.app, got.index, got.specHash], ['svc1', 'berth-web-0', 'web', 0, 'h1']);
    });
  }

  it('gives a crashed task’s exit code', () => {
    const t = task('t1', 'failed', { desired: 'shutdown' });
    t.Status.ContainerStatus = { ExitCode: 3 };
    assert.equal(toInstance(service(1), [t], addressOf).exitCode, 3);
  });

  it('reads the store label', () => assert.equal(toInstance(service(0, { 'berth.store': 's1' }), [], addressOf).store, 's1'));

  it('a task the scheduler holds back (the pinned node drained while it ran) is exited, with the scheduler’s reason', () => {
    // Read as restarting, the app showed running, the resync let it be, and a request got a proxy error.
    const held = task('t2', 'pending');
    held.Status.Err = 'no suitable node (scheduling constraints not satisfied on 2 nodes)';
    const gone = task('t1', 'shutdown', { desired: 'shutdown' });
    const got = toInstance(service(1, { [LABEL_NODE]: 'x1y2' }), [gone, held], addressOf, (n) => (n === 'x1y2' ? 'db-host' : n));
    assert.equal(got.state, 'exited');
    assert.equal(got.address, undefined);
    assert.match(got.engineError ?? '', /cannot place its task: no suitable node \(scheduling constraints not satisfied on 2 nodes\); the app has a volume and runs only on node db-host/);
    assert.equal(toInstance(service(1), [gone, task('t2', 'pending')], addressOf).state, 'restarting', 'pending with no reason yet: still coming');
    assert.equal(toInstance(service(1), [{ ...held, DesiredState: 'shutdown' }], addressOf).state, 'restarting', 'a refusal the service no longer wants');
  });

  it('finds the published port of the target port', () => {
    const t = task('t', 'running');
    t.Status.PortStatus = { Ports: [{ TargetPort: 9000, PublishedPort: 31000 }, { TargetPort: 8080, PublishedPort: 32000 }] };
    assert.equal(publishedPort(t, 8080), 32000);
    assert.equal(runningTask('other', [t]), undefined);
  });
});

describe('stillStopping', () => {
  const up = () => false;
  it('waits for a task that still runs, or is still starting', () => {
    const waited = stillStopping([task('t1', 'running', { desired: 'shutdown' }), task('t2', 'starting', { desired: 'shutdown' })], up);
    assert.deepEqual(waited.map((t) => t.ID), ['t1', 't2']);
  });
  it('not for one that ended, or was never placed', () => {
    assert.deepEqual(stillStopping([task('a', 'shutdown'), task('b', 'failed'), task('c', 'complete'), task('d', 'pending'), task('e', 'new'), task('f', 'rejected')], up), []);
  });
  it('not for one on a node that is down: it cannot report its end until it is back', () => {
    // The stop waited out its whole bound (30 s) for it, then failed, with the worker's dockerd stopped.
    const tasks = [task('t1', 'running', { desired: 'shutdown', node: 'gone' }), task('t2', 'running', { desired: 'shutdown', node: 'n1' })];
    assert.deepEqual(stillStopping(tasks, (n) => n === 'gone').map((t) => t.ID), ['t2']);
  });
});

describe('unschedulable', () => {
  const refused = (id: string, err = 'no suitable node (scheduling constraints not satisfied on 2 nodes)') => {
    const t = task(id, 'pending');
    t.Status.Err = err;
    return t;
  };

  it('is the new task the scheduler keeps pending, with its reason', () => assert.equal(unschedulable([task('t0', 'shutdown'), refused('t1')], new Set(['t0']))?.ID, 't1'));
  it('is nothing while the task is only pending, or placed', () => assert.equal(unschedulable([task('t1', 'pending'), task('t2', 'assigned')], new Set()), undefined));
  it('ignores a refusal of a task from before the wake that the service no longer wants', () => {
    const old = refused('t0');
    old.DesiredState = 'shutdown';
    assert.equal(unschedulable([old], new Set(['t0'])), undefined);
  });
  // A pinned app's node drained while it ran: the Swarm shut its task down and keeps the one it made instead pending.
  it('is the task from before the wake that the service still wants, kept pending', () => assert.equal(unschedulable([task('t0', 'shutdown', { desired: 'shutdown' }), refused('t1')], new Set(['t0', 't1']))?.ID, 't1'));
  it('says why, in the scheduler’s words', () => assert.equal(unschedulableReason(service(1), refused('t1', 'no suitable node (insufficient resources on 2 nodes)')), 'the swarm cannot place its task: no suitable node (insufficient resources on 2 nodes)'));
  it('names the node an app with a volume is pinned to', () => assert.match(unschedulableReason(service(1, { [LABEL_NODE]: 'node-7' }), refused('t1')), /not satisfied on 2 nodes\); the app has a volume and runs only on node node-7: is that node drained/));
  it('by its hostname when known', () => assert.match(unschedulableReason(service(1, { [LABEL_NODE]: 'x1y2z3' }), refused('t1'), (id) => (id === 'x1y2z3' ? 'db-host' : id)), /runs only on node db-host:/));
});

describe('calledOff', () => {
  it('goes on while the service asks for its task', () => assert.equal(calledOff(service(1)), undefined));
  it('ends a wake whose service was scaled to 0 outside berth', () => assert.match(calledOff(service(0)) ?? '', /scaled to 0 outside berth/));
  it('ends a wake whose service was removed outside berth', () => assert.match(calledOff(undefined) ?? '', /removed outside berth/));
});

describe('diffTasks', () => {
  const at = new Date(0);
  const snap = (running: Record<string, string>, apps: Record<string, string> = { s1: 'a', s2: 'b' }) => ({ apps: new Map(Object.entries(apps)), running: new Map(Object.entries(running)) });
  const cases: [string, ReturnType<typeof snap>, ReturnType<typeof snap>, string[]][] = [
    ['nothing changed', snap({ s1: 't1' }), snap({ s1: 't1' }), []],
    ['a task started', snap({}), snap({ s1: 't1' }), ['start s1 a']],
    ['a task ended (idle stop, crash)', snap({ s1: 't1' }), snap({}), ['die s1 a']],
    ['a task moved to another node: die, then start', snap({ s1: 't1' }), snap({ s1: 't2' }), ['die s1 a', 'start s1 a']],
    ['a service removed while running', snap({ s2: 't9' }), snap({}, { s1: 'a' }), ['die s2 b', 'destroy s2 b']],
    ['two services at once', snap({ s1: 't1' }), snap({ s2: 't2' }), ['die s1 a', 'start s2 b']],
  ];
  for (const [name, before, after, want] of cases) {
    it(name, () => assert.deepEqual(diffTasks(before, after, at).map((e) => `${e.kind} ${e.instanceId} ${e.app}`), want));
  }

  const edited = (running: Record<string, string>, changed: Record<string, number>) => ({ ...snap(running), changed: new Map(Object.entries(changed)) });
  const edits: [string, ReturnType<typeof edited>, ReturnType<typeof edited>, string[]][] = [
    ['a service edited behind berth’s back is changed, once', edited({ s1: 't1' }, {}), edited({ s1: 't1' }, { s1: 7 }), ['changed s1 a']],
    ['still edited at the next poll: not told again', edited({ s1: 't1' }, { s1: 7 }), edited({ s1: 't1' }, { s1: 7 }), []],
    ['edited again (a new version): told again', edited({ s1: 't1' }, { s1: 7 }), edited({ s1: 't1' }, { s1: 9 }), ['changed s1 a']],
    // Told last, the die read as the app's exit: it showed stopped until the start, then the repair.
    ['its edit rolled out a new task: the change first, then the die and the start', edited({ s1: 't1' }, {}), edited({ s1: 't2' }, { s1: 7 }), ['changed s1 a', 'die s1 a', 'start s1 a']],
    ['its edit stopped the task first (stop-first): the change, then the die', edited({ s1: 't1' }, {}), edited({}, { s1: 7 }), ['changed s1 a', 'die s1 a']],
  ];
  for (const [name, before, after, want] of edits) {
    it(name, () => assert.deepEqual(diffTasks(before, after, at).map((e) => `${e.kind} ${e.instanceId} ${e.app}`), want));
  }

  it('toInstance says an edited service is outdated, and one as berth wrote it is not', () => {
    const written = serviceSpec(appSpec('web'), 0, { replicas: 1 }) as SwarmService['Spec'];
    const edit = structuredClone(written) as Loose;
    edit.TaskTemplate.Placement.Constraints = ['node.role==manager'];
    const of = (spec: SwarmService['Spec']) => toInstance({ ID: 's1', Version: { Index: 1 }, Spec: spec }, [], () => undefined);
    assert.equal(of(written).outdated, undefined);
    assert.equal(of(edit as SwarmService['Spec']).outdated, true);
  });
});

describe('the exit code of a task that ended', () => {
  const at = new Date(0);
  const snap = (running: Record<string, string>) => ({ apps: new Map([['s1', 'a'], ['s2', 'b']]), running: new Map(Object.entries(running)) });

  it('is asked of the tasks that stopped running only', () => assert.deepEqual(endedTasks(snap({ s1: 't1', s2: 't2' }), snap({ s1: 't1', s2: 't3' })), ['t2']));

  it('goes with the death of a task that crashed, as a container’s die event', () => {
    const events = diffTasks(snap({ s1: 't1' }), snap({}), at, new Map([['t1', 5]]));
    assert.deepEqual(events.map((e) => [e.kind, e.instanceId, e.exitCode]), [['die', 's1', 5]]);
  });

  const ended = (state: SwarmTask['Status']['State'], code?: number): SwarmTask => {
    const t = task('t1', state, { desired: 'shutdown' });
    if (code !== undefined) t.Status.ContainerStatus = { ExitCode: code };
    return t;
  };
  const cases: [string, SwarmTask | undefined, number | undefined][] = [
    ['a crash: its code', ended('failed', 5), 5],
    ['an app that quit by itself: 0', ended('complete', 0), 0],
    ['shut down by the Swarm (a move, a scale to 0): none, not the app’s doing', ended('shutdown', 143), undefined],
    ['still running as far as the Swarm knows: none', ended('running'), undefined],
    ['no longer kept by the Swarm: none', undefined, undefined],
  ];
  for (const [name, t, want] of cases) it(name, () => assert.equal(exitCodeOf(t), want));
});

describe('nodeAddress', () => {
  const node = (labels: Record<string, string> = {}, addr = '10.9.0.5'): SwarmNode => ({ ID: 'id1', Description: { Hostname: 'box' }, Spec: { Labels: labels }, Status: { Addr: addr } });
  const cases: [string, SwarmNode, Record<string, string>, string | undefined][] = [
    ['the configured address by node id wins', node({ 'berth.address': '1.1.1.1' }), { id1: '2.2.2.2', box: '3.3.3.3' }, '2.2.2.2'],
    ['then by hostname', node({ 'berth.address': '1.1.1.1' }), { box: '3.3.3.3' }, '3.3.3.3'],
    ['then the node label', node({ 'berth.address': '1.1.1.1' }), {}, '1.1.1.1'],
    ['then the address it joined with', node(), {}, '10.9.0.5'],
    ['never 0.0.0.0', node({}, '0.0.0.0'), {}, undefined],
  ];
  for (const [name, n, configured, want] of cases) it(name, () => assert.equal(nodeAddress(n, configured), want));
});

describe('the health of an instance whose image has a HEALTHCHECK', () => {
  const labelled = serviceSpec(appSpec('web'), 0, { replicas: 1, imageHealthcheck: true }) as SwarmService['Spec'];
  const plain = serviceSpec(appSpec('web'), 0, { replicas: 1 }) as SwarmService['Spec'];
  const service = (spec: SwarmService['Spec']): SwarmService => ({ ID: 's1', Version: { Index: 1 }, Spec: spec });
  const task = (id: string, state: SwarmTask['Status']['State'], extra: Partial<SwarmTask['Status']> = {}): SwarmTask => ({
    ID: id, ServiceID: 's1', NodeID: 'n1', DesiredState: state === 'running' || state === 'starting' ? 'running' : 'shutdown', CreatedAt: '2026-01-01T00:00:00Z',
    Status: { State: state, Timestamp: '2026-01-01T00:00:01Z', PortStatus: { Ports: [{ TargetPort: 8080, PublishedPort: 30001 }] }, ...extra },
  });
  const health = (spec: SwarmService['Spec'], tasks: SwarmTask[]) => toInstance(service(spec), tasks, () => '10.0.0.2').health;

  it('is labelled on the service when the image declares one', () => {
    assert.equal(labelled.Labels?.[LABEL_HEALTHCHECK], 'image');
    assert.equal(plain.Labels?.[LABEL_HEALTHCHECK], undefined);
  });
  it('a running task is healthy: the Swarm runs a task only once its check passed', () => assert.equal(health(labelled, [task('t1', 'running')]), 'healthy'));
  it('a task the Swarm holds in starting is starting', () => assert.equal(health(labelled, [task('t1', 'starting')]), 'starting'));
  it('a task the Swarm replaces (it failed its check), the next one starting, is starting', () => assert.equal(health(labelled, [task('t1', 'complete'), task('t2', 'starting')]), 'starting'));
  it('with no task the service wants run, none', () => assert.equal(health(labelled, [task('t1', 'complete')]), 'none'));
  it('without a HEALTHCHECK it is none, as a container without one', () => assert.equal(health(plain, [task('t1', 'running')]), 'none'));
  it('a stopped one (0 replicas) is none', () => assert.equal(toInstance(service({ ...labelled, Mode: { Replicated: { Replicas: 0 } } }), [], () => undefined).health, 'none'));
  const tests: [string, string[] | null | undefined, boolean][] = [
    ['CMD', ['CMD', 'wget', '-q', 'http://localhost/'], true],
    ['CMD-SHELL', ['CMD-SHELL', 'exit 0'], true],
    ['NONE', ['NONE'], false],
    ['inherited', [], false],
    ['absent', undefined, false],
    ['null', null, false],
  ];
  for (const [name, test, want] of tests) it(`declaresHealthcheck: ${name}`, () => assert.equal(declaresHealthcheck(test), want));
});
