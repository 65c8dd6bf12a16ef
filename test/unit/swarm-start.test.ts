// A Swarm wake against a fake manager (the few Engine API calls startService makes):
// what bounds the wait for a task, and what the service is left at when it ends.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StartFailedError } from '../../src/errors.js';
import { hostAddresses } from '../../src/runtime/docker/addresses.js';
import { resolveDockerEndpoint } from '../../src/runtime/docker/client.js';
import type { SwarmContext } from '../../src/runtime/swarm/context.js';
import { NodeBook } from '../../src/runtime/swarm/nodes.js';
import { startService } from '../../src/runtime/swarm/scale.js';
import { taskWait, waitedFor } from '../../src/runtime/swarm/start-verdict.js';
import { LABEL_HEALTHCHECK, drifted, serviceSpec } from '../../src/runtime/swarm/service-spec.js';
import type { SwarmService, SwarmTask } from '../../src/runtime/swarm/wire.js';
import type { Instance, Runtime, StartOptions } from '../../src/runtime/runtime.js';
import { startSlot } from '../../src/activator/instance-slot.js';
import { appSpec } from '../support/spec-fixture.js';

/** A manager with one berth service whose task the scheduler never places (pending, no reason yet). */
function pendingManager() {
  const service: SwarmService = {
    ID: 'svc1',
    Version: { Index: 1 },
    Spec: { Name: 'berth-web-0', Labels: { 'berth.managed': 'true', 'berth.app': 'web', 'berth.index': '0' }, Mode: { Replicated: { Replicas: 0 } } },
  };
  const replicasSet: number[] = [];
  const tasks = (): SwarmTask[] =>
    (service.Spec.Mode?.Replicated?.Replicas ?? 0) > 0 ? [{ ID: 't1', ServiceID: 'svc1', DesiredState: 'running', Status: { State: 'pending' } }] : [];
  const docker = {
    getService: () => ({
      inspect: async () => structuredClone(service),
      update: async (spec: SwarmService['Spec']) => {
        service.Spec = { ...service.Spec, Mode: spec.Mode! };
        service.Version.Index++;
        replicasSet.push(spec.Mode?.Replicated?.Replicas ?? -1);
      },
    }),
    listTasks: async () => tasks(),
    listNodes: async () => [],
  };
  const endpoint = resolveDockerEndpoint('unix:///nonexistent.sock');
  const ctx = {
    endpoint,
    addresses: hostAddresses(endpoint),
    docker: () => docker,
    extraLabels: {},
    allowPull: false,
    swarm: { nodeAddresses: {}, taskPollMs: 1_000, taskStartMs: 120_000 },
  } as unknown as SwarmContext;
  return { ctx, nodes: new NodeBook(ctx), replicas: () => service.Spec.Mode?.Replicated?.Replicas, replicasSet };
}

describe('a Swarm wake is bounded by the app’s startTimeout', () => {
  it('gives up when what is left of the startTimeout passed, not after the swarm’s two minutes, as a timed-out start naming it', { timeout: 60_000 }, async () => {
    const m = pendingManager();
    const began = performance.now();
    const err = await startService(m.ctx, m.nodes, 'svc1', { timeoutMs: 300 }).then(
      () => assert.fail('a task that never runs is no start'),
      (e: unknown) => e,
    );
    // Far below the 120 s task start time; generous for a loaded machine.
    assert.ok(performance.now() - began < 30_000, `ended after ${Math.round(performance.now() - began)} ms`);
    assert.ok(err instanceof StartFailedError, `a StartFailedError: ${String(err)}`);
    assert.equal(err.code, 'upstream_timeout', 'answered as a start that timed out (504), as on one engine');
    assert.match(err.message, /app web failed to start: .*berth-web-0 ran no task within the 300ms that were left of the app's startTimeout \(pending\)/);
    assert.deepEqual(m.replicasSet, [1, 0], 'asked for a task, then scaled back to 0: the swarm does not place it behind berth’s back');
    assert.equal(m.replicas(), 0);
  });

  it('ends when the start is called off, and scales the service back to 0', async () => {
    const m = pendingManager();
    const abort = new AbortController();
    const started = startService(m.ctx, m.nodes, 'svc1', { timeoutMs: 60_000, signal: abort.signal });
    // Called off once the task was asked for.
    for (let i = 0; i < 300 && m.replicas() !== 1; i++) await new Promise((r) => setTimeout(r, 10));
    abort.abort();
    await assert.rejects(started, /called off/);
    assert.equal(m.replicas(), 0, 'no task left to run untracked');
  });

  it('is given what is left of the app’s startTimeout, and the start’s signal, by the activator', async () => {
    const seen: StartOptions[] = [];
    const instance: Instance = { id: 'svc1', name: 'berth-web-0', app: 'web', index: 0, specHash: 'h', state: 'exited', health: 'none' };
    const runtime = {
      start: async (_id: string, options?: StartOptions) => {
        seen.push(options ?? {});
        throw new StartFailedError('web', 'not ready in time', true);
      },
    } as unknown as Runtime;
    const abort = new AbortController();
    await assert.rejects(startSlot(runtime, appSpec('web'), 0, performance.now() + 5_000, instance, undefined, abort.signal), /not ready in time/);
    assert.equal(seen.length, 1);
    assert.ok(seen[0]!.timeoutMs !== undefined && seen[0]!.timeoutMs > 0 && seen[0]!.timeoutMs <= 5_000, `bounded: ${seen[0]!.timeoutMs}`);
    assert.equal(seen[0]!.signal, abort.signal);
  });

  it('takes the tighter of the two bounds', () => {
    assert.deepEqual(taskWait(120_000, undefined), { ms: 120_000, byStartTimeout: false });
    assert.deepEqual(taskWait(120_000, 10_000), { ms: 10_000, byStartTimeout: true });
    assert.deepEqual(taskWait(120_000, 600_000), { ms: 120_000, byStartTimeout: false });
    assert.deepEqual(taskWait(120_000, -5), { ms: 0, byStartTimeout: true });
  });

  it('says how long the wake had, after the fact: whole milliseconds or seconds, nothing left as such, the runtime’s bound in words', () => {
    // It read "(299.73500000000001ms left of it)", "(0ms left of it)", "within 120000 ms".
    assert.equal(waitedFor(taskWait(120_000, 299.735), 120_000), "within the 300ms that were left of the app's startTimeout");
    assert.equal(waitedFor(taskWait(120_000, 9_999.6), 120_000), "within the 10s that were left of the app's startTimeout");
    assert.equal(waitedFor(taskWait(120_000, 61_400.2), 120_000), "within the 1m1s that were left of the app's startTimeout");
    assert.equal(waitedFor(taskWait(120_000, 999.7), 120_000), "within the 1s that were left of the app's startTimeout");
    assert.equal(waitedFor(taskWait(120_000, -5), 120_000), "in time: nothing was left of the app's startTimeout");
    assert.equal(waitedFor(taskWait(120_000, 0.2), 120_000), "in time: nothing was left of the app's startTimeout");
    assert.equal(waitedFor(taskWait(120_000, undefined), 120_000), 'within 2m (the longest berth waits for a task)');
  });
});

/**
 * A manager with one berth service written as serviceSpec writes it, whose task runs at
 * once on node n1 when asked for; its image's HEALTHCHECK is `imageHealthcheck` now
 * (undefined: the image is not on the manager).
 */
function runningManager(labelled: boolean, imageHealthcheck: boolean | undefined) {
  const spec = serviceSpec(appSpec('web'), 0, { replicas: 0, imageHealthcheck: labelled }) as SwarmService['Spec'];
  const service: SwarmService = { ID: 'svc1', Version: { Index: 1 }, Spec: spec };
  const writes: SwarmService['Spec'][] = [];
  const task: SwarmTask = {
    ID: 't1',
    ServiceID: 'svc1',
    NodeID: 'n1',
    DesiredState: 'running',
    Status: { State: 'running', Timestamp: new Date().toISOString(), PortStatus: { Ports: [{ TargetPort: 8080, PublishedPort: 30001, PublishMode: 'host' }] } },
  };
  const docker = {
    getService: () => ({
      inspect: async () => structuredClone(service),
      update: async ({ version: _version, ...written }: SwarmService['Spec'] & { version: number }) => {
        service.Spec = structuredClone(written);
        service.Version.Index++;
        writes.push(written);
      },
    }),
    getImage: () => ({
      inspect: async () => {
        if (imageHealthcheck === undefined) throw Object.assign(new Error('no such image'), { statusCode: 404 });
        return { Config: { Healthcheck: imageHealthcheck ? { Test: ['CMD', 'true'] } : null } };
      },
    }),
    listTasks: async () => ((service.Spec.Mode?.Replicated?.Replicas ?? 0) > 0 ? [task] : []),
    listNodes: async () => [{ ID: 'n1', Description: { Hostname: 'n1' }, Status: { State: 'ready', Addr: '127.0.0.1' } }],
  };
  const endpoint = resolveDockerEndpoint('unix:///nonexistent.sock');
  const ctx = { endpoint, addresses: hostAddresses(endpoint), docker: () => docker, extraLabels: {}, allowPull: false, swarm: { nodeAddresses: {}, taskPollMs: 1_000, taskStartMs: 120_000 } } as unknown as SwarmContext;
  return { ctx, nodes: new NodeBook(ctx), service, writes, template: structuredClone(spec.TaskTemplate) };
}

describe('a Swarm wake reads the image’s HEALTHCHECK again (the image rebuilt under the same tag)', () => {
  it('one added since the service was written: labelled, and the instance’s health follows the task', async () => {
    const m = runningManager(false, true);
    const up = await startService(m.ctx, m.nodes, 'svc1', { timeoutMs: 10_000 });
    assert.equal(up.state, 'running');
    assert.equal(up.health, 'healthy', 'the Swarm ran the task once its check passed');
    assert.equal(m.service.Spec.Labels?.[LABEL_HEALTHCHECK], 'image');
    assert.equal(drifted(m.service.Spec), false, 'berth’s own relabel is no edit behind its back');
    assert.deepEqual(m.service.Spec.TaskTemplate, m.template, 'the task template is untouched: no task restarted for it');
    assert.equal(m.writes.length, 1, 'written with the replicas, in one update');
  });

  it('one dropped since: the label goes', async () => {
    const m = runningManager(true, false);
    const up = await startService(m.ctx, m.nodes, 'svc1', { timeoutMs: 10_000 });
    assert.equal(up.health, 'none');
    assert.equal(m.service.Spec.Labels?.[LABEL_HEALTHCHECK], undefined);
    assert.equal(drifted(m.service.Spec), false);
  });

  it('unchanged, or the image not on the manager: the label stays as it was', async () => {
    for (const [labelled, now] of [[true, true], [false, false], [true, undefined]] as const) {
      const m = runningManager(labelled, now);
      await startService(m.ctx, m.nodes, 'svc1', { timeoutMs: 10_000 });
      assert.equal(m.service.Spec.Labels?.[LABEL_HEALTHCHECK], labelled ? 'image' : undefined, `labelled ${labelled}, image ${now}`);
      assert.equal(m.writes.length, 1, 'the replicas only');
    }
  });
});
