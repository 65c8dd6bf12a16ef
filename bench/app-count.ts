/**
 * The app-count benchmark (see app-count.sh): registers BENCH_APPS apps (default
 * 10,000, mostly stopped) through the admin API of a real `berth serve` on a temp
 * data dir, in batches, and reports per-batch apply time, gateway RSS per app (after
 * a full GC), the time of a page of GET /v1/apps, route lookup rates with 10 apps
 * and with BENCH_APPS, cold starts with and without a pre-created container, and the
 * engine's side: dockerd RSS and `docker ps -a` time with many created containers.
 * Everything it creates carries the label bench.app-count.run=<id> and is removed at the end.
 */
import { join, resolve } from 'node:path';
import Docker from 'dockerode';
import { BenchGateway } from './app-count-gateway.js';
import { engineFigures, measureCreates, type CreateFigures, type EngineFigures } from './app-count-engine.js';
import { APP_PORT, IMAGE, requireImage } from './lib/docker.js';
import { checkRunId, wholeNumber } from './lib/options.js';
import { freePort } from './lib/ports.js';
import { logger, runMain, writeResult } from './lib/run.js';
import { fmt, median, round } from './lib/stats.js';
import { table } from './lib/table.js';
import { lookupRates, type LookupRate } from './route-lookup.js';

const log = logger('app-count');
const env = process.env;
const APPS = wholeNumber(env.BENCH_APPS, 10_000, 10, 100_000, 'BENCH_APPS');
const BATCH = wholeNumber(env.BENCH_BATCH, 500, 1, 5_000, 'BENCH_BATCH');
const ENGINE_CONTAINERS = wholeNumber(env.BENCH_ENGINE_CONTAINERS, 1_000, 0, 20_000, 'BENCH_ENGINE_CONTAINERS');
const COLD_RUNS = wholeNumber(env.BENCH_COLD_RUNS, 5, 1, 50, 'BENCH_COLD_RUNS');
const CREATE_AHEAD = env.BENCH_CREATE_AHEAD;
const RUN_ID = checkRunId(env.BENCH_APP_COUNT_RUN_ID ?? Math.random().toString(36).slice(2, 10), 'BENCH_APP_COUNT_RUN_ID');
const TMP = env.BENCH_APP_COUNT_TMPDIR ?? '/tmp';
export const RUN_LABEL = 'bench.app-count.run';

interface Batch {
  registered: number;
  ms: number;
  msPerApp: number;
}

interface PageFigures {
  firstPageMs: number;
  firstPageBytes: number;
  firstPageItems: number;
  /** Paging through every app with limit=1000 (or the one answer of a gateway that does not page). */
  allMs: number;
  allPages: number;
  allBytes: number;
}

const appName = (i: number) => `b${RUN_ID}-${String(i).padStart(5, '0')}`;

function specOf(i: number): object {
  return { apiVersion: 'berth/v1', name: appName(i), image: IMAGE, port: APP_PORT, labels: { [RUN_LABEL]: RUN_ID } };
}

async function register(gw: BenchGateway): Promise<Batch[]> {
  const batches: Batch[] = [];
  for (let from = 0; from < APPS; from += BATCH) {
    const specs = Array.from({ length: Math.min(BATCH, APPS - from) }, (_, k) => specOf(from + k));
    const { ms } = await gw.call('POST', '/v1/apps', specs);
    batches.push({ registered: from + specs.length, ms: round(ms), msPerApp: round(ms / specs.length, 3) });
    log(`batch ${batches.length}: ${from + specs.length} apps, ${ms.toFixed(0)} ms (${(ms / specs.length).toFixed(2)} ms/app)`);
  }
  return batches;
}

async function pages(gw: BenchGateway): Promise<PageFigures> {
  const firsts: number[] = [];
  let first = { bytes: 0, items: 0 };
  for (let i = 0; i < 5; i++) {
    const r = await gw.call<{ apps: unknown[] }>('GET', '/v1/apps?limit=100');
    firsts.push(r.ms);
    first = { bytes: r.bytes, items: r.body.apps.length };
  }
  let cursor: string | undefined;
  let allMs = 0;
  let allPages = 0;
  let allBytes = 0;
  do {
    const r = await gw.call<{ apps: unknown[]; next?: string }>('GET', `/v1/apps?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    allMs += r.ms;
    allPages++;
    allBytes += r.bytes;
    cursor = r.body.next;
  } while (cursor);
  return { firstPageMs: round(median(firsts)), firstPageBytes: first.bytes, firstPageItems: first.items, allMs: round(allMs), allPages, allBytes };
}

/** Cold starts of apps that never ran (a container only if create-ahead made one), then again once each has a stopped container. */
async function coldStarts(gw: BenchGateway): Promise<{ firstMs: number; withContainerMs: number; apps: number }> {
  const first: number[] = [];
  const again: number[] = [];
  for (let k = 0; k < COLD_RUNS; k++) {
    const name = appName(APPS - 1 - k);
    first.push(await gw.proxied(`/session/${name}/`));
    await gw.call('POST', `/v1/apps/${name}/stop`);
    again.push(await gw.proxied(`/session/${name}/`));
    await gw.call('POST', `/v1/apps/${name}/stop`);
  }
  return { firstMs: round(median(first)), withContainerMs: round(median(again)), apps: COLD_RUNS };
}

async function cleanup(docker: Docker, gw: BenchGateway | undefined, network: string): Promise<string> {
  await gw?.stop().catch(() => undefined);
  const filters = { label: [`${RUN_LABEL}=${RUN_ID}`] };
  const containers = await docker.listContainers({ all: true, filters }).catch(() => []);
  let next = 0;
  const worker = async () => {
    while (next < containers.length) await docker.getContainer(containers[next++]!.Id).remove({ force: true }).catch(() => undefined);
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  await docker.getNetwork(network).remove().catch(() => undefined);
  return `${containers.length} containers`;
}

runMain({ log, forceExitMs: 120_000, logCleanupAfterSignal: true }, async (setCleanup) => {
  const started = new Date();
  const docker = new Docker();
  await requireImage(docker);
  const dir = await import('node:fs/promises').then((fs) => fs.mkdtemp(join(TMP, 'berth-app-count-')));
  const network = `berth-bench-${RUN_ID}`;
  const gw = new BenchGateway(dir, await freePort());
  setCleanup(() => cleanup(docker, gw, network));
  const engineBefore: EngineFigures = await engineFigures();
  const createAhead = CREATE_AHEAD === undefined ? '' : `createAhead: ${CREATE_AHEAD}\n`;
  await gw.start(`listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nstore: ./berth.db\nappsNetwork: ${network}\npolicy:\n  images: ["berth-test/*"]\n${createAhead}`);
  const empty = await gw.memoryAfterGc();
  log(`gateway up (pid ${gw.pid}), RSS ${(empty.rssKb / 1024).toFixed(1)} MB; registering ${APPS} apps in batches of ${BATCH}`);
  const batches = await register(gw);
  const full = await gw.memoryAfterGc();
  const rssKbPerApp = (full.rssKb - empty.rssKb) / APPS;
  const heapBytesPerApp = (full.heapUsed - empty.heapUsed) / APPS;
  log(`RSS ${(full.rssKb / 1024).toFixed(1)} MB: ${rssKbPerApp.toFixed(1)} KB per app (heap ${(heapBytesPerApp / 1024).toFixed(1)} KB per app)`);
  const page = await pages(gw);
  log(`GET /v1/apps?limit=100: ${page.firstPageMs} ms, ${page.firstPageBytes} bytes; all ${APPS} in ${page.allPages} page(s): ${page.allMs} ms`);
  const routes: LookupRate[] = lookupRates([10, APPS]);
  log(`route lookups/s: ${routes.map((r) => `${r.apps} apps ${(r.lookupsPerS / 1e6).toFixed(2)} M spread, ${(r.hotLookupsPerS / 1e6).toFixed(2)} M to 10 apps`).join('; ')}`);
  const cold = await coldStarts(gw);
  log(`cold start: first ${cold.firstMs} ms, with a stopped container ${cold.withContainerMs} ms`);
  const engineWithApps = await engineFigures();
  await cleanup(docker, gw, network);
  let creates: CreateFigures | undefined;
  if (ENGINE_CONTAINERS > 0) {
    log(`creating ${ENGINE_CONTAINERS} containers directly to measure the engine`);
    creates = await measureCreates(docker, IMAGE, { [RUN_LABEL]: RUN_ID }, ENGINE_CONTAINERS, `b${RUN_ID}-raw`);
  }
  const tenK = (f: CreateFigures) => ({ dockerdRssMb: round(f.before.dockerdRssMb + (f.dockerdKbPerContainer * 10_000) / 1024), psAllMs: round(f.before.psAllMs + f.psMsPer1000 * 10) });
  const result = { started, apps: APPS, batch: BATCH, createAhead: CREATE_AHEAD ?? 'default', batches, memory: { empty, full, rssKbPerApp: round(rssKbPerApp), heapBytesPerApp: Math.round(heapBytesPerApp) }, page, routes, cold, engine: { before: engineBefore, withApps: engineWithApps, creates, extrapolatedTo10000: creates && tenK(creates) } };
  const half = Math.floor(batches.length / 2);
  const avg = (list: Batch[]) => list.reduce((a, b) => a + b.msPerApp, 0) / Math.max(list.length, 1);
  const rows = [
    ['figure', 'value'],
    ['apply ms/app, first batch', fmt(batches[0]?.msPerApp, 3)],
    ['apply ms/app, last batch', fmt(batches.at(-1)?.msPerApp, 3)],
    ['apply ms/app, first half / second half', `${fmt(avg(batches.slice(0, half)), 3)} / ${fmt(avg(batches.slice(half)), 3)}`],
    ['gateway RSS empty / full (MB)', `${fmt(empty.rssKb / 1024)} / ${fmt(full.rssKb / 1024)}`],
    ['gateway RSS per app (KB, after GC)', fmt(rssKbPerApp)],
    ['V8 heap per app (KB, after GC)', fmt(heapBytesPerApp / 1024)],
    ['GET /v1/apps?limit=100 (ms, bytes)', `${page.firstPageMs}, ${page.firstPageBytes}`],
    [`all ${APPS} apps by limit=1000 (ms, pages, bytes)`, `${page.allMs}, ${page.allPages}, ${page.allBytes}`],
    ...routes.map((r) => [`route lookups/s, ${r.apps} apps (spread over ≤1024 apps; to the same 10)`, `${(r.lookupsPerS / 1e6).toFixed(2)} M; ${(r.hotLookupsPerS / 1e6).toFixed(2)} M`]),
    ['cold start, first request (median ms)', fmt(cold.firstMs)],
    ['cold start, stopped container (median ms)', fmt(cold.withContainerMs)],
    ['engine containers before / with apps', `${engineBefore.containers} / ${engineWithApps.containers}`],
    ['dockerd RSS before / with apps (MB)', `${fmt(engineBefore.dockerdRssMb)} / ${fmt(engineWithApps.dockerdRssMb)}`],
    ['docker ps -a before / with apps (ms)', `${fmt(engineBefore.psAllMs)} / ${fmt(engineWithApps.psAllMs)}`],
  ];
  if (creates) {
    rows.push(
      ['docker create (median ms)', fmt(creates.createMs)],
      [`dockerd RSS at +${creates.created} created (MB)`, `${fmt(creates.before.dockerdRssMb)} -> ${fmt(creates.after.dockerdRssMb)} (${fmt(creates.dockerdKbPerContainer)} KB each)`],
      [`docker ps -a at +${creates.created} created (ms)`, `${fmt(creates.before.psAllMs)} -> ${fmt(creates.after.psAllMs)} (${fmt(creates.psMsPer1000)} ms per 1,000)`],
      ['extrapolated to 10,000 created: dockerd MB, ps -a ms', `${fmt(tenK(creates).dockerdRssMb)}, ${fmt(tenK(creates).psAllMs)}`],
    );
  }
  process.stdout.write(table(rows) + '\n');
  const stamped = await writeResult(resolve(env.BENCH_APP_COUNT_JSON ?? 'bench/results/app-count-latest.json'), 'app-count', started, result);
  log(`results in ${stamped}`);
  await import('node:fs/promises').then((fs) => fs.rm(dir, { recursive: true, force: true }));
});
