// berth on a real two-node Docker Swarm made on this machine (scripts/swarm-harness.sh):
// two extra dockerds in network namespaces of their own, joined as manager and worker.
// The gateway runs here, in the main namespace: it drives the manager through its unix
// socket and dials tasks at the ports their nodes publish, at the namespaces' addresses.
// One swarm serves every case of the file; the cases run in order and build on each other.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appPath, testAppYaml } from '../support/app-spec.js';
import { testRun } from '../support/docker-cleanup.js';
import { GatewayHarness } from '../support/gateway-harness.js';
import { timedGet } from '../support/http-requests.js';
import { APP_IMAGE } from '../support/images.js';
import { hostCounts, loadLoop } from '../support/load-loop.js';
import { sleep, waitFor } from '../support/wait-for.js';
import { SwarmHarness, type SwarmNodeRole } from '../support/swarm-harness.js';
import { drifted } from '../../src/runtime/swarm/service-spec.js';
import { SwarmRuntime } from '../../src/runtime/swarm/swarm-runtime.js';
import { parseSpecObject } from '../../src/spec/index.js';

const run = testRun();
const app = `sw${run.id}`;
const T = { timeout: 60_000 };

interface Task {
  ID: string;
  NodeID?: string;
  ServiceID: string;
  Status: { State: string };
}

interface Service {
  ID: string;
  Spec: { Name: string; Labels?: Record<string, string>; Mode?: { Replicated?: { Replicas?: number } }; TaskTemplate?: { ContainerSpec?: { Env?: string[] } } };
}

function spec(extra = ''): string {
  return testAppYaml(app, `scale: {min: 0, max: 1}\nstartTimeout: 30s\nidleTimeout: 3s\n${extra}`);
}

describe('swarm runtime on a two-node swarm', () => {
  let swarm: SwarmHarness | undefined;
  let h: GatewayHarness;
  const status = () => h.gateway?.statuses().find((s) => s.name === app);
  const apply = (yaml: string) => h.api('POST', '/v1/apps', { body: yaml, contentType: 'application/yaml' });
  const services = async (): Promise<Service[]> => (await swarm!.docker().listServices({ filters: { label: [`berth.app=${app}`] } })) as unknown as Service[];
  /** The app's running tasks, with the node each runs on. */
  const runningTasks = async (): Promise<(Task & { node: SwarmNodeRole })[]> => {
    const ids = new Set((await services()).map((s) => s.ID));
    const tasks = (await swarm!.docker().listTasks({ filters: { 'desired-state': ['running'] } })) as Task[];
    const manager = await swarm!.nodeId('manager');
    return tasks.filter((t) => ids.has(t.ServiceID) && t.Status.State === 'running').map((t) => ({ ...t, node: t.NodeID === manager ? 'manager' : 'worker' }));
  };
  const get = () => timedGet(h.port, appPath(app, '/echo'), { timeoutMs: 30_000 });

  before(async () => {
    swarm = await SwarmHarness.up([APP_IMAGE]);
    h = await GatewayHarness.create(run.labels);
    const addresses = `{${swarm.nodeName('manager')}: ${swarm.address('manager')}, ${swarm.nodeName('worker')}: ${swarm.address('worker')}}`;
    await h.writeConfig(`runtime: swarm\ndocker: ${swarm.managerUrl}\nswarm: {nodeAddresses: ${addresses}, taskPoll: 250ms}\nresync: 2s\n`);
    await h.start();
    const created = await apply(spec());
    assert.equal(created.status, 200, created.text);
  });

  after(async () => {
    await h?.dispose();
    // Removes the services with the swarm: both dockerds, their data, the namespaces and links.
    await swarm?.down();
  });

  test('the main engine is not part of the swarm', async () => {
    const { testDocker } = await import('../support/docker-cleanup.js');
    const info = (await testDocker().info()) as { Swarm?: { LocalNodeState?: string } };
    assert.notEqual(info.Swarm?.LocalNodeState, 'active');
    const [service] = await services();
    assert.ok(service, 'apply created the app’s service on the manager');
    assert.equal(service.Spec.Labels?.['berth.managed'], 'true');
    assert.equal(service.Spec.Mode?.Replicated?.Replicas, 0, 'a scale-to-zero app is created with 0 replicas');
  });

  test('a SwarmRuntime on an engine that is no manager says so', async () => {
    // The machine's main engine: asked, never changed.
    await assert.rejects(new SwarmRuntime({}).ping(), /is not a swarm manager.*runtime: docker/);
  });

  test('a service berth did not label is never touched', T, async () => {
    const foreign = `${app}x`;
    const made = (await swarm!.docker().createService({ Name: `berth-${foreign}-0`, TaskTemplate: { ContainerSpec: { Image: APP_IMAGE } }, Mode: { Replicated: { Replicas: 0 } } } as never)) as unknown as { id: string };
    const runtime = h.gateway!.runtime!;
    await assert.rejects(runtime.ensure(parseSpecObject({ apiVersion: 'berth/v1', name: foreign, image: APP_IMAGE, port: 8080 }), 0), /not created by berth/);
    await assert.rejects(runtime.start(made.id), /not managed by berth/);
    await assert.rejects(runtime.remove(made.id), /not managed by berth/);
    assert.deepEqual((await runtime.list()).filter((i) => i.app === foreign), [], 'not listed as berth’s');
    const still = (await swarm!.docker().getService(made.id).inspect()) as { Spec: { Mode: { Replicated: { Replicas: number } } } };
    assert.equal(still.Spec.Mode.Replicated.Replicas, 0, 'left as it was');
    await swarm!.docker().getService(made.id).remove();
  });

  test('an app placed on the worker is woken from zero through berth and served there', T, async () => {
    // The manager takes no tasks: the wake must land on the worker.
    await swarm!.availability('manager', 'drain');
    // Concurrent first requests: one wake, one task, every request answered.
    const replies = await Promise.all(Array.from({ length: 6 }, () => get()));
    for (const reply of replies) assert.equal(reply.status, 200, reply.body);
    const tasks = await runningTasks();
    assert.equal(tasks.length, 1);
    const history = (await swarm!.docker().listTasks({ filters: { service: [tasks[0]!.ServiceID] } })) as Task[];
    assert.equal(history.length, 1, `the swarm was asked for one task: ${JSON.stringify(history.map((x) => x.Status.State))}`);
    assert.equal(tasks[0]!.node, 'worker');
    const [instance] = await h.gateway!.runtime!.list({ app });
    assert.equal(instance?.address?.host, swarm!.address('worker'), 'berth dials the task at the worker’s address');
    assert.equal(status()?.state, 'running');
  });

  test('it is idle-stopped back to 0 replicas', T, async () => {
    await waitFor('the app stopped by its idle timeout', () => status()?.state === 'stopped', { timeoutMs: 30_000, intervalMs: 100 });
    const [service] = await services();
    assert.equal(service?.Spec.Mode?.Replicated?.Replicas, 0);
    await waitFor('its task gone', async () => (await runningTasks()).length === 0, { timeoutMs: 30_000, intervalMs: 200 });
  });

  test('draining the worker moves the task while requests keep being answered', T, async (t) => {
    const woke = await get();
    assert.equal(woke.status, 200, woke.body);
    assert.equal((await runningTasks())[0]?.node, 'worker');
    await swarm!.availability('manager', 'active');
    const load = loadLoop(h.port, appPath(app, '/echo'), { clients: 2, maxMs: 45_000, pauseMs: 20 });
    await sleep(500);
    const before = load.result().requests;
    await swarm!.availability('worker', 'drain');
    await waitFor('the task running on the manager', async () => (await runningTasks()).some((task) => task.node === 'manager'), { timeoutMs: 40_000, intervalMs: 200 });
    // Requests go on being answered by the moved task.
    const movedAt = load.result().requests;
    await waitFor('requests answered after the move', () => load.result().requests > movedAt + 20, { timeoutMs: 30_000 });
    const result = await load.stop();
    await swarm!.availability('worker', 'active');
    t.diagnostic(`drain: ${result.failures.length} failed of ${result.requests} requests (${result.requests - before} after the drain began): ${JSON.stringify(result.failures.slice(0, 5))}`);
    assert.equal((await get()).status, 200);
    assert.equal(result.byHost.size, 2, `two tasks served, before and after the move: ${JSON.stringify([...result.byHost])}`);
    const [instance] = await h.gateway!.runtime!.list({ app });
    assert.equal(instance?.address?.host, swarm!.address('manager'));
    assert.ok(result.failures.length < result.requests / 4, `most requests answered: ${result.failures.length} of ${result.requests} failed`);
  });

  test('a rolling update under load fails no request', T, async (t) => {
    const old = (await services()).map((s) => s.ID);
    const load = loadLoop(h.port, appPath(app, '/echo'), { clients: 4, maxMs: 45_000 });
    await sleep(300);
    const applied = await apply(spec('env: {VERSION: "2", LOG_REQUESTS: "1"}\n'));
    await sleep(300);
    const result = await load.stop();
    assert.equal(applied.status, 200, applied.text);
    t.diagnostic(`update: ${result.failures.length} failed of ${result.requests} requests`);
    assert.deepEqual(result.failures, [], `no failed request out of ${result.requests}`);
    assert.ok(result.requests > 20, `the load kept going (${result.requests})`);
    const now = await services();
    assert.equal(now.length, 1, 'the old service was removed');
    assert.ok(!old.includes(now[0]!.ID), 'a new service runs the new revision');
    assert.ok(now[0]!.Spec.TaskTemplate?.ContainerSpec?.Env?.includes('VERSION=2'));
    assert.deepEqual((now[0]!.Spec.TaskTemplate as { LogDriver?: unknown }).LogDriver, { Name: 'json-file', Options: { 'max-size': '20m', 'max-file': '5' } }, "the tasks' json-file log is bounded");
    const env = await timedGet(h.port, appPath(app, '/env'));
    assert.equal((JSON.parse(env.body) as Record<string, string>).VERSION, '2');
  });

  test('logs come from the service, through the API', T, async () => {
    assert.equal((await timedGet(h.port, appPath(app, '/echo?marker=swarm-logs'))).status, 200);
    await waitFor('the request in the service logs', async () => {
      const logs = await h.api('GET', `/v1/apps/${app}/logs?tail=200`);
      return logs.status === 200 && logs.text.includes('marker=swarm-logs');
    }, { timeoutMs: 15_000, intervalMs: 250 });
  });

  test('an app with a volume is pinned to one node, where its data stays', T, async () => {
    const db = `${app}v`;
    const created = await apply(testAppYaml(db, 'scale: {min: 0, max: 1}\nvolume: /data\nstartTimeout: 30s\n'));
    assert.equal(created.status, 200, created.text);
    const [service] = (await swarm!.docker().listServices({ filters: { label: [`berth.app=${db}`] } })) as unknown as { Spec: { TaskTemplate: { Placement?: { Constraints?: string[] } } } }[];
    assert.deepEqual(service?.Spec.TaskTemplate.Placement?.Constraints, [`node.id==${await swarm!.nodeId('manager')}`], 'pinned to the manager berth talks to');
    const wrote = await timedGet(h.port, appPath(db, '/write?path=/data/note&data=kept'), { timeoutMs: 30_000 });
    assert.equal(wrote.status, 200, wrote.body);
    assert.equal((await h.api('POST', `/v1/apps/${db}/stop`)).status < 300, true, 'stopped through the API');
    await waitFor('the volume app stopped', () => h.gateway?.statuses().find((s) => s.name === db)?.state === 'stopped', { timeoutMs: 30_000, intervalMs: 100 });
    const read = await timedGet(h.port, appPath(db, '/file?path=/data/note'), { timeoutMs: 30_000 });
    assert.equal(read.status, 200, read.body);
    assert.match(read.body, /kept/);
  });

  test('a wake no node can take fails within seconds, with the scheduler’s reason', T, async () => {
    const db = `${app}v`;
    const view = () => h.gateway?.statuses().find((s) => s.name === db);
    assert.ok((await h.api('POST', `/v1/apps/${db}/stop`)).status < 300);
    await waitFor('the volume app stopped', () => view()?.state === 'stopped', { timeoutMs: 30_000, intervalMs: 100 });
    // The node the app's volume is pinned to takes no task: the scheduler keeps it pending, "no suitable node".
    await swarm!.availability('manager', 'drain');
    try {
      const began = performance.now();
      const reply = await timedGet(h.port, appPath(db, '/echo'), { timeoutMs: 45_000 });
      assert.ok(reply.status >= 500, `a failed start is answered with an error: ${reply.status}`);
      assert.ok(performance.now() - began < 20_000, `well before the start timeout (30 s) and the task start time (2 min): ${Math.round(performance.now() - began)} ms`);
      assert.match(String(view()?.lastError), /cannot place its task: no suitable node.*runs only on node/, `the reason: ${view()?.lastError}`);
      const [service] = (await swarm!.docker().listServices({ filters: { label: [`berth.app=${db}`] } })) as unknown as Service[];
      assert.equal(service?.Spec.Mode?.Replicated?.Replicas, 0, 'scaled back to 0: the swarm does not place it behind berth’s back');
    } finally {
      await swarm!.availability('manager', 'active');
    }
  });

  test('a wake whose service is scaled to 0 outside berth meanwhile ends then, saying so', T, async () => {
    const db = `${app}v`;
    const view = () => h.gateway?.statuses().find((s) => s.name === db);
    const serviceOf = async () => ((await swarm!.docker().listServices({ filters: { label: [`berth.app=${db}`] } })) as unknown as (Service & { Version: { Index: number } })[])[0]!;
    // Its pinned node drained, the wake waits for a task the scheduler holds back.
    await swarm!.availability('manager', 'drain');
    try {
      const reply = timedGet(h.port, appPath(db, '/echo'), { timeoutMs: 45_000 });
      await waitFor('the wake asking for a task', async () => (await serviceOf()).Spec.Mode?.Replicated?.Replicas === 1, { timeoutMs: 15_000, intervalMs: 50 });
      const service = await serviceOf();
      const scaledAt = performance.now();
      await swarm!.docker().getService(service.ID).update({ ...service.Spec, Mode: { Replicated: { Replicas: 0 } }, version: service.Version.Index } as never);
      const answer = await reply;
      assert.ok(answer.status >= 500, `a failed start is answered with an error: ${answer.status}`);
      assert.ok(performance.now() - scaledAt < 15_000, 'ended soon after the scale, not at the task start time');
      assert.match(String(view()?.lastError), /scaled to 0 outside berth/, `the reason: ${view()?.lastError}`);
    } finally {
      await swarm!.availability('manager', 'active');
    }
  });

  test('a service changed outside berth while stopped is brought back to the app’s spec at the next wake', T, async () => {
    const db = `${app}v`;
    const [service] = (await swarm!.docker().listServices({ filters: { label: [`berth.app=${db}`] } })) as unknown as (Service & { Version: { Index: number }; Spec: Record<string, any> })[];
    assert.ok(service);
    assert.equal(drifted(service.Spec), false, 'a service as berth wrote it reads back unchanged: a wake does not update it');
    // As `docker service update --image … --env-add …` would: the template changes, every label stays.
    const template = service.Spec['TaskTemplate'] as { ContainerSpec: { Env?: string[] } };
    const changed = { ...template, ContainerSpec: { ...template.ContainerSpec, Image: 'berth-test/elsewhere:latest', Env: [...(template.ContainerSpec.Env ?? []), 'INJECTED=1'] } };
    await swarm!.docker().getService(service.ID).update({ ...service.Spec, TaskTemplate: changed, version: service.Version.Index } as never);
    const reply = await timedGet(h.port, appPath(db, '/file?path=/data/note'), { timeoutMs: 45_000 });
    assert.equal(reply.status, 200, `served by the app’s own image, with its data: ${reply.body} (${h.gateway?.statuses().find((s) => s.name === db)?.lastError})`);
    const [now] = (await swarm!.docker().listServices({ filters: { label: [`berth.app=${db}`] } })) as unknown as Service[];
    const spec = (now!.Spec.TaskTemplate as { ContainerSpec: { Image: string; Env?: string[] } }).ContainerSpec;
    assert.equal(spec.Image, APP_IMAGE);
    assert.ok(!spec.Env?.includes('INJECTED=1'), 'the env is the spec’s again');
  });

  test('replicas run as services of their own, balanced by berth', T, async () => {
    const multi = `${app}r`;
    const created = await apply(testAppYaml(multi, 'scale: {min: 0, max: 2, replicas: 2}\nstartTimeout: 30s\n'));
    assert.equal(created.status, 200, created.text);
    assert.equal((await timedGet(h.port, appPath(multi, '/echo'), { timeoutMs: 30_000 })).status, 200);
    await waitFor('two instances ready', () => h.gateway?.statuses().find((s) => s.name === multi)?.readyInstances === 2, { timeoutMs: 40_000, intervalMs: 100 });
    const counts = await hostCounts(h.port, appPath(multi, '/echo'), 20);
    assert.equal(counts.size, 2, `both tasks served: ${JSON.stringify([...counts])}`);
    const names = ((await swarm!.docker().listServices({ filters: { label: [`berth.app=${multi}`] } })) as unknown as Service[]).map((x) => x.Spec.Name).sort();
    assert.deepEqual(names, [`berth-${multi}-0`, `berth-${multi}-1`]);
  });

  test('a CPU limit above the nodes’ CPUs is lowered to theirs, not refused by the node at every wake', T, async () => {
    const big = `${app}c`;
    const created = await apply(testAppYaml(big, 'scale: {min: 0, max: 1}\nresources: {cpus: 512}\nstartTimeout: 30s\n'));
    assert.equal(created.status, 200, created.text);
    const reply = await timedGet(h.port, appPath(big, '/echo'), { timeoutMs: 30_000 });
    assert.equal(reply.status, 200, `served: ${reply.body} (${h.gateway?.statuses().find((s) => s.name === big)?.lastError})`);
    const [service] = (await swarm!.docker().listServices({ filters: { label: [`berth.app=${big}`] } })) as unknown as { Spec: { TaskTemplate: { Resources?: { Limits?: { NanoCPUs?: number } } } } }[];
    const node = (await swarm!.docker().getNode(swarm!.nodeName('worker')).inspect()) as { Description: { Resources: { NanoCPUs: number } } };
    assert.equal(service?.Spec.TaskTemplate.Resources?.Limits?.NanoCPUs, node.Description.Resources.NanoCPUs, 'all of a node’s CPUs');
    assert.ok((await h.api('POST', `/v1/apps/${big}/stop`)).status < 300);
  });

  test('a task that crashes fails its wake at once, saying why; crash-looping, it goes back to 0 replicas', T, async () => {
    const broken = `${app}f`;
    const created = await apply(testAppYaml(broken, 'scale: {min: 0, max: 1}\nstartTimeout: 30s\nenv: {EXIT_ON_START: "1"}\n'));
    assert.equal(created.status, 200, created.text);
    const view = () => h.gateway?.statuses().find((s) => s.name === broken);
    for (let attempt = 1; attempt <= 3 && view()?.state !== 'crashloop'; attempt++) {
      const began = performance.now();
      const reply = await timedGet(h.port, appPath(broken, '/echo'), { timeoutMs: 30_000 });
      assert.ok(reply.status >= 500, `a failed start is answered with an error: ${reply.status}`);
      assert.ok(performance.now() - began < 25_000, 'well before the start timeout');
      assert.match(String(view()?.lastError), /exit|code 1/, `the reason: ${view()?.lastError}`);
    }
    await waitFor('the crash-looping app scaled to 0', async () => {
      const [service] = (await swarm!.docker().listServices({ filters: { label: [`berth.app=${broken}`] } })) as unknown as Service[];
      return service?.Spec.Mode?.Replicated?.Replicas === 0;
    }, { timeoutMs: 20_000, intervalMs: 200 });
  });

  test('a restarted gateway adopts the running service as it is', T, async () => {
    assert.equal((await get()).status, 200);
    const [task] = await runningTasks();
    assert.ok(task, 'the app runs');
    await h.stop();
    await h.start();
    await waitFor('the running service adopted', () => status()?.state === 'running', { timeoutMs: 15_000, intervalMs: 50 });
    assert.equal((await get()).status, 200);
    const now = await runningTasks();
    assert.deepEqual(now.map((x) => x.ID), [task.ID], 'the same task serves: nothing was restarted');
  });

  test('a running service edited outside berth is brought back to the app’s spec, the status saying so', T, async () => {
    assert.equal((await get()).status, 200);
    await waitFor('the app running', () => status()?.state === 'running', { timeoutMs: 15_000, intervalMs: 50 });
    type Loose = { ID: string; Version: { Index: number }; Spec: Record<string, any> };
    const service = (await services())[0] as unknown as Loose;
    const template = service.Spec['TaskTemplate'];
    // As `docker service update --constraint-add node.hostname!=nowhere --limit-memory 300m` would: every label stays.
    const edited = { ...template, Placement: { Constraints: [...(template.Placement?.Constraints ?? []), 'node.hostname!=nowhere'] }, Resources: { Limits: { ...template.Resources?.Limits, MemoryBytes: 300 * 2 ** 20 } } };
    // Traffic all along: the app's idle timeout (3 s) must not stop it meanwhile.
    const load = loadLoop(h.port, appPath(app, '/echo'), { clients: 1, maxMs: 45_000, pauseMs: 100 });
    try {
      await swarm!.docker().getService(service.ID).update({ ...service.Spec, TaskTemplate: edited, version: service.Version.Index } as never);
      await waitFor('brought back to the spec, and the status saying so', async () => {
        const [now] = await services();
        return now !== undefined && !drifted(now.Spec as never) && /changed outside berth.*brought it back/.test(status()?.reason ?? '');
      }, { timeoutMs: 40_000, intervalMs: 250 });
    } finally {
      await load.stop();
    }
    const now = (await services())[0] as unknown as Loose;
    assert.deepEqual(now.Spec['TaskTemplate'].Placement?.Constraints ?? [], template.Placement?.Constraints ?? [], 'its placement is the spec’s again');
    assert.equal(now.Spec['TaskTemplate'].Resources?.Limits?.MemoryBytes, template.Resources?.Limits?.MemoryBytes, 'its memory limit is the spec’s again');
    await waitFor('serving', () => status()?.state === 'running', { timeoutMs: 15_000, intervalMs: 50 });
    assert.equal((await get()).status, 200);
  });

  test('a running task that crashes says its exit code, as a container’s does', T, async () => {
    assert.equal((await get()).status, 200);
    await waitFor('the app running', () => status()?.state === 'running', { timeoutMs: 15_000, intervalMs: 50 });
    const exiting = await timedGet(h.port, appPath(app, '/exit?code=5'));
    assert.equal(exiting.status, 200, exiting.body);
    // The Swarm restarts the task a second later, and berth adopts it: the reason stays in lastError.
    await waitFor('the crash and its code in the status', () => /code 5/.test(`${status()?.lastError} ${status()?.reason}`), { timeoutMs: 20_000, intervalMs: 50 });
    assert.match(String(status()?.lastError), /exited with code 5/);
  });

  test('a service scaled up outside berth goes on showing running, served by the task berth dials', T, async () => {
    assert.equal((await get()).status, 200);
    await waitFor('the app running', () => status()?.state === 'running', { timeoutMs: 15_000, intervalMs: 50 });
    const runtime = h.gateway!.runtime!;
    const [before] = await runtime.list({ app });
    const seen = new Set<string>();
    const watch = setInterval(() => seen.add(`${status()?.state} ${status()?.reason ?? ''}`.trim()), 20);
    // Traffic all along: the app's idle timeout (3 s) must not stop it meanwhile.
    const load = loadLoop(h.port, appPath(app, '/echo'), { clients: 1, maxMs: 45_000, pauseMs: 100 });
    try {
      const [service] = (await services()) as (Service & { Version: { Index: number } })[];
      // As `docker service scale berth-<app>-0=3` would.
      await swarm!.docker().getService(service!.ID).update({ ...service!.Spec, Mode: { Replicated: { Replicas: 3 } }, version: service!.Version.Index } as never);
      await waitFor('three tasks running', async () => (await runningTasks()).length === 3, { timeoutMs: 30_000, intervalMs: 200 });
      // A few task polls (250 ms) and a resync (2 s) see the tasks that came up.
      await sleep(2_500);
    } finally {
      clearInterval(watch);
    }
    const result = await load.stop();
    assert.deepEqual([...seen], ['running'], 'never shown stopped while it served');
    assert.deepEqual(result.failures, [], `every request answered, of ${result.requests}`);
    const [after] = await runtime.list({ app });
    assert.deepEqual(after?.address, before?.address, 'dialled where it was');
    assert.equal((await get()).status, 200);
  });

  test('logs?tail=1 is the newest line of the service, not the last of each of its tasks', T, async () => {
    // The service runs three tasks now (scaled up outside berth), each with lines of its own; the engine tails each.
    assert.equal((await timedGet(h.port, appPath(app, '/echo?marker=newest-line'))).status, 200);
    const tail = () => h.api('GET', `/v1/apps/${app}/logs?tail=1`);
    await waitFor('the request in the logs', async () => (await tail()).text.includes('marker=newest-line'), { timeoutMs: 15_000, intervalMs: 250 });
    const logs = await tail();
    assert.equal(logs.status, 200);
    assert.deepEqual(logs.text.trim().split('\n').length, 1, `one line: ${logs.text}`);
  });
});
