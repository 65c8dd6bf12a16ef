/** The replicas benchmark's blue/green phase: an update applied under a keep-alive load, and what the clients saw of it. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Bench } from './replicas-bench.js';
import type { LoadRecord } from './replicas-load.js';
import { HERE, PREFIX } from './replicas-options.js';
import type { UpdateResult } from './replicas-types.js';
import { percentile, round } from './lib/stats.js';

export async function updateUnderLoad(bench: Bench, i: number): Promise<UpdateResult> {
  const before = await bench.replicaList();
  const oldHosts = new Set(before.map((r) => r.hostname));
  await bench.place('shared', before);
  await bench.quiet.wait();
  const child = spawn(
    process.execPath,
    [join(HERE, 'replicas-load.js'), '--port', String(bench.proxyPort), '--path', `${PREFIX}echo`, '--clients', String(bench.options.updateClients), '--max-ms', '90000', '--run-id', bench.options.runId],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  bench.load = child;
  if (child.pid) appendFileSync(join(bench.dir, 'pids'), `${child.pid} load\n`);
  const messages: Array<{ type: string; result?: LoadRecord }> = [];
  const waiters: Array<() => void> = [];
  child.on('message', (m: { type: string; result?: LoadRecord }) => {
    messages.push(m);
    for (const w of waiters.splice(0)) w();
  });
  const next = async (type: string, ms: number) => {
    const deadline = performance.now() + ms;
    while (performance.now() < deadline) {
      const m = messages.find((x) => x.type === type);
      if (m) return m;
      if (child.exitCode !== null) break;
      await Promise.race([new Promise<void>((ok) => waiters.push(ok)), sleep(200)]);
    }
    throw new Error(`load client: no '${type}' message (exit ${child.exitCode})`);
  };
  try {
    await next('ready', 10_000);
    await sleep(bench.options.updateLeadMs);
    bench.revision++;
    const env = { BENCH_REVISION: String(bench.revision) };
    const applyStart = performance.timeOrigin + performance.now();
    const applied = await bench.api('POST', '/v1/apps', bench.specYaml());
    const applyEnd = performance.timeOrigin + performance.now();
    await sleep(bench.options.updateTailMs);
    child.send('stop');
    const done = await next('done', 30_000);
    const rec = done.result!;
    const after = await bench.replicaList();
    const newHosts = new Set(after.map((r) => r.hostname));
    const afterInfo = await Promise.all(after.map((r) => bench.docker.getContainer(r.id).inspect()));
    const allNew = after.every((r) => !oldHosts.has(r.hostname)) && afterInfo.every((c) => c.Config.Env.includes(`BENCH_REVISION=${bench.revision}`));
    const result = analyseUpdate(i, rec, { applyStart, applyEnd, oldHosts, newHosts });
    const r0 = applied.json?.results?.[0] as { action?: string; error?: string } | undefined;
    return {
      ...result,
      env,
      applyStatus: applied.status,
      action: r0?.action,
      applyError: r0?.error ?? (applied.status !== 200 ? applied.text.slice(0, 500) : undefined),
      oldInstances: before.length,
      newInstances: [...newHosts].filter((h) => !oldHosts.has(h)).length,
      instancesAfter: after.length,
      allNewAfter: allNew,
    };
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await Promise.race([once(child, 'exit'), sleep(5000)]);
    }
    bench.load = undefined;
  }
}

/** The figures of one update from the load client's record and the times of the apply (epoch ms). */
export function analyseUpdate(
  i: number,
  rec: LoadRecord,
  w: { applyStart: number; applyEnd: number; oldHosts: Set<string>; newHosts: Set<string> },
): Omit<UpdateResult, 'env' | 'applyStatus' | 'action' | 'applyError' | 'oldInstances' | 'newInstances' | 'instancesAfter' | 'allNewAfter'> {
  const n = rec.status.length;
  const idx = Array.from({ length: n }, (_, k) => k);
  const hostOf = (k: number) => (rec.host[k]! >= 0 ? rec.hosts[rec.host[k]!]! : undefined);
  const isOk = (k: number) => rec.status[k]! >= 200 && rec.status[k]! < 300;
  const non2xx: Record<string, number> = {};
  for (const k of idx) if (rec.status[k] !== 0 && !isOk(k)) non2xx[String(rec.status[k])] = (non2xx[String(rec.status[k])] ?? 0) + 1;
  const socket: Record<string, number> = {};
  for (const e of rec.errors) socket[e.error] = (socket[e.error] ?? 0) + 1;
  const failed = (k: number) => !isOk(k);
  const inApply = (k: number) => rec.doneAt[k]! >= w.applyStart && rec.sentAt[k]! <= w.applyEnd;
  // Windows: the last second before the apply (the clients are warm by then), the apply, the tail after it.
  const firstAt = n ? Math.min(...rec.sentAt) : w.applyStart;
  const lastAt = n ? Math.max(...rec.doneAt) : w.applyEnd;
  const beforeFrom = Math.max(firstAt, w.applyStart - 1000);
  const before = idx.filter((k) => rec.doneAt[k]! >= beforeFrom && rec.doneAt[k]! < w.applyStart);
  const during = idx.filter((k) => rec.doneAt[k]! >= w.applyStart && rec.doneAt[k]! <= w.applyEnd);
  const afterApply = idx.filter((k) => rec.doneAt[k]! > w.applyEnd);
  const rps = (ks: number[], from: number, to: number) => (to > from ? ks.length / ((to - from) / 1000) : NaN);
  const lat = (ks: number[]) => ks.map((k) => rec.doneAt[k]! - rec.sentAt[k]!);
  const gap = (ks: number[], from: number, to: number) => {
    const t = [from, ...ks.map((k) => rec.doneAt[k]!).sort((a, b) => a - b), to];
    let g = 0;
    for (let j = 1; j < t.length; j++) g = Math.max(g, t[j]! - t[j - 1]!);
    return g;
  };
  const served = (hosts: Set<string>) => idx.filter((k) => isOk(k) && hosts.has(hostOf(k) ?? ''));
  const newServed = served(w.newHosts).filter((k) => !w.oldHosts.has(hostOf(k)!));
  const oldServed = served(w.oldHosts);
  const firstNew = newServed.length ? Math.min(...newServed.map((k) => rec.doneAt[k]!)) - w.applyStart : NaN;
  const lastOld = oldServed.length ? Math.max(...oldServed.map((k) => rec.doneAt[k]!)) - w.applyStart : NaN;
  const lastOldSent = oldServed.length ? Math.max(...oldServed.map((k) => rec.sentAt[k]!)) - w.applyStart : NaN;
  return {
    update: i,
    applyMs: round(w.applyEnd - w.applyStart, 1),
    requests: n,
    ok: idx.filter(isOk).length,
    non2xx: Object.values(non2xx).reduce((a, b) => a + b, 0),
    non2xxByStatus: non2xx,
    socketErrors: rec.errors.length,
    socketErrorsByCode: socket,
    failedDuringApply: idx.filter((k) => failed(k) && inApply(k)).length,
    servedByUnknownInstance: idx.filter((k) => isOk(k) && !w.oldHosts.has(hostOf(k) ?? '') && !w.newHosts.has(hostOf(k) ?? '')).length,
    firstNewAnswerMs: round(firstNew, 1),
    lastOldAnswerMs: round(lastOld, 1),
    lastOldSentMs: round(lastOldSent, 1),
    switchGapMs: round(firstNew - lastOld, 1),
    requestsPerSecond: {
      before: round(rps(before, beforeFrom, w.applyStart), 0),
      duringApply: round(rps(during, w.applyStart, w.applyEnd), 0),
      after: round(rps(afterApply, w.applyEnd, lastAt), 0),
    },
    latencyMs: {
      beforeP50: round(percentile(lat(before), 50), 2),
      beforeP99: round(percentile(lat(before), 99), 2),
      duringP50: round(percentile(lat(during), 50), 2),
      duringP99: round(percentile(lat(during), 99), 2),
      duringMax: round(Math.max(...lat(during)), 2),
    },
    longestGapMs: { before: round(gap(before, beforeFrom, w.applyStart), 1), duringApply: round(gap(during, w.applyStart, Math.min(w.applyEnd, lastAt)), 1) },
  };
}
