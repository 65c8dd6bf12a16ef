/**
 * Cold start on Swarm: how long a request waits for a stopped app through berth on a
 * two-node swarm, next to the same through berth on the local engine, and next to the
 * swarm's own floor, all in one run. Run it with `bash bench/swarm-cold-start.sh`,
 * which makes the swarm (scripts/swarm-harness.sh), passes its addresses in the
 * environment and removes it afterwards.
 *
 *   node dist/bench/swarm-cold-start.js [--runs 8]
 *
 * Series, interleaved run by run (so a burst of other work hits all three):
 *   1. swarm/floor  a service of its own (not berth's), replicas 0 → 1 through the
 *                   manager's Engine API, then its task's published port polled directly
 *                   at its node's address until /healthz answers 200.
 *   2. swarm/berth  berth's Gateway with runtime: swarm, the app stopped (0 replicas)
 *                   by berth's idle stop: one GET through the proxy → its 200.
 *   3. local/berth  berth's Gateway with the local Docker runtime (appsNetwork none,
 *                   as the swarm apps have none), the app stopped: GET → 200.
 * Everything it creates carries berth.bench=true and berth.bench.run=<id>.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type Docker from 'dockerode';
import { pino } from 'pino';
import { Gateway } from '../src/gateway/gateway.js';
import { createDockerClient, resolveDockerEndpoint } from '../src/runtime/docker/client.js';
import { runtimeFromConfig } from '../src/runtime/runtime-from-config.js';
import { publishedPort, runningTask } from '../src/runtime/swarm/service-instance.js';
import { ENDED, type SwarmTask } from '../src/runtime/swarm/wire.js';
import { openStore } from '../src/store/open-store.js';
import { APP_PORT, IMAGE, removeRunObjects, runLabels } from './lib/docker.js';
import { get } from './lib/http.js';
import { QuietWaiter } from './lib/quiet.js';
import { logger, runMain, writeResult } from './lib/run.js';
import { fmt, summary } from './lib/stats.js';

const log = logger('swarm-cold-start');
const STEP_LIMIT_MS = 60_000;

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run this through bench/swarm-cold-start.sh`);
  return v;
}

interface Side {
  gateway: Gateway;
  port: number;
  dir: string;
}

runMain({ log, forceExitMs: 20_000, logCleanupAfterSignal: true }, async (setCleanup) => {
  const runsArg = process.argv.indexOf('--runs');
  const runs = Number(runsArg >= 0 ? process.argv[runsArg + 1] : process.env.BENCH_SWARM_RUNS ?? 8);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a whole number ≥ 1');
  const runId = Math.random().toString(16).slice(2, 10);
  const { labels, runLabel } = runLabels(runId);
  const manager = createDockerClient(resolveDockerEndpoint(env('BERTH_SWARM_MANAGER')));
  const addresses: Record<string, string> = { [env('BERTH_SWARM_MANAGER_NODE')]: env('BERTH_SWARM_MANAGER_ADDRESS'), [env('BERTH_SWARM_WORKER_NODE')]: env('BERTH_SWARM_WORKER_ADDRESS') };
  const sides: Side[] = [];
  let floorId: string | undefined;
  setCleanup(async () => {
    for (const side of sides) {
      await side.gateway.close().catch(() => undefined);
      await rm(side.dir, { recursive: true, force: true });
    }
    // berth's own services (berth.bench labels) and the floor service, on the throwaway swarm.
    const services = (await manager.listServices({ filters: { label: [runLabel] } }).catch(() => [])) as unknown as { ID: string }[];
    await Promise.all(services.map((s) => manager.getService(s.ID).remove().catch(() => undefined)));
    return `${services.length} swarm services; local: ${await removeRunObjects(createDockerClient(resolveDockerEndpoint()), runLabel)}`;
  });
  const started = new Date();

  const swarmSide = await startGateway(`runtime: swarm\ndocker: ${env('BERTH_SWARM_MANAGER')}\nswarm: {nodeAddresses: ${JSON.stringify(addresses)}, taskPoll: 250ms}\n`, labels);
  sides.push(swarmSide);
  const localSide = await startGateway('appsNetwork: none\n', labels);
  sides.push(localSide);
  floorId = await createFloor(manager, labels);
  const nodeAddress = await nodeAddresses(manager, addresses);

  // Before each measured step, wait (within a budget) until other work on the machine uses few cores.
  const quiet = new QuietWaiter({ maxCores: Number(process.env.BENCH_QUIET_CORES ?? 0.5), budgetMs: Number(process.env.BENCH_QUIET_BUDGET ?? 180) * 1000, log, firstSampleMs: 200, sampleMs: 500, ticksPerS: 100, sayWhenDone: false });
  const series = { floor: [] as number[], swarm: [] as number[], local: [] as number[] };
  // One unmeasured round first: the first start of a fresh service or container pays for its creation.
  for (let i = -1; i < runs; i++) {
    const floorMs = await floorRun(manager, floorId, nodeAddress, () => quiet.wait());
    const swarmMs = await berthRun(swarmSide, () => quiet.wait());
    const localMs = await berthRun(localSide, () => quiet.wait());
    log(`${i < 0 ? 'warm-up' : `run ${i + 1}/${runs}`}: swarm floor ${fmt(floorMs)} ms, berth on swarm ${fmt(swarmMs)} ms, berth local ${fmt(localMs)} ms`);
    if (i < 0) continue;
    series.floor.push(floorMs);
    series.swarm.push(swarmMs);
    series.local.push(localMs);
  }
  const result = { runId, started: started.toISOString(), runs, image: IMAGE, quietWaitedMs: Math.round(quiet.waitedMs), floor: summary(series.floor), swarm: summary(series.swarm), local: summary(series.local), raw: series };
  const stamped = await writeResult('bench/results/swarm-cold-start-latest.json', 'swarm-cold-start', started, result);
  const row = (name: string, s: ReturnType<typeof summary>) => `${name.padEnd(38)} ${fmt(s.median).padStart(8)} ${fmt(s.p90).padStart(8)} ${fmt(s.min).padStart(8)} ${fmt(s.max).padStart(8)}`;
  process.stdout.write(
    [
      `cold start, stopped → first 200 (ms, ${runs} runs)        median      p90      min      max`,
      row('swarm floor (replicas 0→1, direct poll)', result.floor),
      row('berth on swarm (GET through the proxy)', result.swarm),
      row('berth on the local engine', result.local),
      '',
    ].join('\n'),
  );
  log(`wrote bench/results/swarm-cold-start-latest.json (and ${stamped})`);
});

async function startGateway(extra: string, labels: Record<string, string>): Promise<Side> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-swarm-bench-'));
  const name = 'cold';
  const app = `apiVersion: berth/v1\nname: ${name}\nimage: ${IMAGE}\nport: ${APP_PORT}\nreadiness: {path: /healthz}\nidleTimeout: 1s\nroutes: [{path: /s/${name}/, stripPrefix: true}]\n`;
  await writeFile(join(dir, 'app.yaml'), app);
  await writeFile(join(dir, 'berth.yaml'), `listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nstore: ./berth.db\npolicy: {images: ["berth-test/*"]}\napps: [./app.yaml]\n${extra}`);
  const gateway = new Gateway(join(dir, 'berth.yaml'), {
    logger: pino({ level: process.env.BERTH_LOG_LEVEL ?? 'silent' }),
    openStore: (config) => openStore(config.store),
    runtime: (config, hooks) => runtimeFromConfig(config, hooks, labels),
    adminToken: `bench-${Math.random().toString(36).slice(2)}`,
  });
  await gateway.start();
  const port = gateway.proxyAddress?.port;
  if (!port) throw new Error('the gateway did not listen');
  return { gateway, port, dir };
}

/** One GET of a stopped app through berth; waits until berth idle-stopped it again afterwards. */
async function berthRun(side: Side, settle: () => Promise<unknown>): Promise<number> {
  await waitUntil('the app stopped', () => side.gateway.statuses()[0]?.state === 'stopped');
  await sleep(300);
  await settle();
  const t0 = performance.now();
  const reply = await get(side.port, '/s/cold/healthz', STEP_LIMIT_MS, { userAgent: 'swarm-cold-start' });
  const ms = performance.now() - t0;
  if (reply.status !== 200) throw new Error(`berth answered ${reply.status}: ${reply.body.slice(0, 200)}`);
  return ms;
}

async function createFloor(manager: Docker, labels: Record<string, string>): Promise<string> {
  const spec = {
    Name: `bench-floor-${labels['berth.bench.run']}`,
    Labels: labels,
    TaskTemplate: { ContainerSpec: { Image: IMAGE, Init: true, Labels: labels }, RestartPolicy: { Condition: 'any', Delay: 1e9 } },
    Mode: { Replicated: { Replicas: 0 } },
    EndpointSpec: { Mode: 'dnsrr', Ports: [{ Protocol: 'tcp', TargetPort: APP_PORT, PublishMode: 'host' }] },
  };
  const created = (await manager.createService(spec as never)) as unknown as { id?: string; ID?: string };
  return created.id ?? created.ID ?? '';
}

async function nodeAddresses(manager: Docker, byName: Record<string, string>): Promise<(nodeId: string) => string> {
  const nodes = (await manager.listNodes()) as { ID: string; Description?: { Hostname?: string } }[];
  const map = new Map(nodes.map((n) => [n.ID, byName[n.Description?.Hostname ?? ''] ?? '']));
  return (id) => map.get(id) ?? '';
}

/** The swarm's own floor: replicas 0 → 1, then the task's port polled directly until it answers. */
async function floorRun(manager: Docker, id: string, addressOf: (nodeId: string) => string, settle: () => Promise<unknown>): Promise<number> {
  await scale(manager, id, 0);
  // Every task ended, as berth's stop waits for too: a new task does not start while its slot's old one still stops.
  await waitUntil('the floor task gone', async () => ((await manager.listTasks({ filters: { service: [id] } })) as SwarmTask[]).every((t) => ENDED.has(t.Status.State)));
  await sleep(300);
  await settle();
  const t0 = performance.now();
  await scale(manager, id, 1);
  const deadline = t0 + STEP_LIMIT_MS;
  let host = '';
  let port: number | undefined;
  while (!port) {
    if (performance.now() > deadline) throw new Error('the floor task did not run');
    const task = runningTask(id, (await manager.listTasks({ filters: { service: [id] } })) as SwarmTask[]);
    if (task?.NodeID) {
      port = publishedPort(task, APP_PORT);
      host = addressOf(task.NodeID);
    }
    if (!port) await sleep(20);
  }
  for (;;) {
    if (performance.now() > deadline) throw new Error('the floor task did not answer');
    const ok = await fetch(`http://${host}:${port}/healthz`, { signal: AbortSignal.timeout(1_000) }).then((r) => r.status === 200, () => false);
    if (ok) return performance.now() - t0;
    await sleep(10);
  }
}

async function scale(manager: Docker, id: string, replicas: number): Promise<void> {
  const service = manager.getService(id);
  const info = (await service.inspect()) as { Version: { Index: number }; Spec: Record<string, unknown> };
  await service.update({ ...info.Spec, Mode: { Replicated: { Replicas: replicas } }, version: info.Version.Index } as never);
}

async function waitUntil(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = performance.now() + STEP_LIMIT_MS;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
