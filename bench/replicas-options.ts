/** The replicas benchmark's options (BENCH_* environment variables, see replicas.sh) and its fixed settings. */
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkRunId, seconds, wholeNumber as int } from './lib/options.js';

export const HERE = dirname(fileURLToPath(import.meta.url)); // dist/bench
export const ROOT = resolve(HERE, '../..');
export const PREFIX = '/r/';
/** No single wait (a scale, an apply, a process start) may take longer than this. */
export const STEP_LIMIT_MS = 120_000;

export type Placement = 'shared' | 'pinned';
export type Target = 'berth' | 'nginx';

export interface Options {
  runId: string;
  replicas: number[];
  placements: Placement[];
  durationS: number;
  warmupS: number;
  connections: number;
  threads: number;
  rounds: number;
  balance: 'least-connections' | 'round-robin';
  quietCores: number;
  quietBudgetMs: number;
  retries: number;
  updates: number;
  updateClients: number;
  updateLeadMs: number;
  updateTailMs: number;
  json: string;
  tmp?: string;
  logLevel: string;
}

export function parseOptions(env: NodeJS.ProcessEnv = process.env): Options {
  const runId = checkRunId(env.BENCH_RUN_ID || randomBytes(4).toString('hex'), 'BENCH_RUN_ID');
  const replicas = (env.BENCH_REPLICAS ?? '1 2 4').trim().split(/[\s,]+/).map((x) => int(x, 1, 1, 8, 'BENCH_REPLICAS entries'));
  const multiCore = cpus().length >= 2;
  const pin = (env.BENCH_PIN ?? '1') !== '0';
  let placements = (env.BENCH_PLACEMENTS ?? 'shared pinned').trim().split(/[\s,]+/) as Placement[];
  for (const p of placements) if (p !== 'shared' && p !== 'pinned') throw new Error(`BENCH_PLACEMENTS: unknown placement '${p}' (shared, pinned)`);
  if (!pin || !multiCore) placements = placements.filter((p) => p === 'shared');
  if (placements.length === 0) placements = ['shared'];
  const balance = env.BENCH_BALANCE ?? 'least-connections';
  if (balance !== 'least-connections' && balance !== 'round-robin') throw new Error(`BENCH_BALANCE must be least-connections or round-robin, got '${balance}'`);
  const durationS = seconds(env.BENCH_DURATION ?? '8s', 'BENCH_DURATION');
  if (durationS < 1 || durationS > 300) throw new Error('BENCH_DURATION must be from 1s to 5m');
  return {
    runId,
    replicas: [...new Set(replicas)],
    placements: [...new Set(placements)],
    durationS,
    warmupS: seconds(env.BENCH_WARMUP ?? '2s', 'BENCH_WARMUP'),
    connections: int(env.BENCH_CONNECTIONS, 64, 1, 4096, 'BENCH_CONNECTIONS'),
    threads: int(env.BENCH_THREADS, 1, 1, 16, 'BENCH_THREADS'),
    rounds: int(env.BENCH_ROUNDS, 3, 1, 20, 'BENCH_ROUNDS'),
    balance,
    quietCores: Number(env.BENCH_QUIET_CORES ?? '0.2'),
    quietBudgetMs: int(env.BENCH_QUIET_BUDGET, 180, 0, 3600, 'BENCH_QUIET_BUDGET') * 1000,
    retries: int(env.BENCH_RETRIES, 1, 0, 5, 'BENCH_RETRIES'),
    updates: int(env.BENCH_UPDATES, 3, 0, 20, 'BENCH_UPDATES'),
    updateClients: int(env.BENCH_UPDATE_CLIENTS, 16, 1, 512, 'BENCH_UPDATE_CLIENTS'),
    updateLeadMs: int(env.BENCH_UPDATE_LEAD_MS, 2000, 0, 30_000, 'BENCH_UPDATE_LEAD_MS'),
    updateTailMs: int(env.BENCH_UPDATE_TAIL_MS, 2000, 0, 30_000, 'BENCH_UPDATE_TAIL_MS'),
    json: resolve(ROOT, env.BENCH_REPLICAS_JSON ?? 'bench/results/replicas-latest.json'),
    tmp: env.BENCH_TMPDIR || undefined,
    logLevel: env.BERTH_LOG_LEVEL ?? 'warn',
  };
}
