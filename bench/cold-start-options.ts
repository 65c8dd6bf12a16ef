/** The cold-start benchmark's options: flags first, then BENCH_COLD_* environment variables (see cold-start.sh). */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { argValue, checkRunId, wholeNumber as int } from './lib/options.js';

export interface Options {
  runs: number;
  warmup: number;
  burst: number;
  settleMs: number;
  json: string;
  runId: string;
  quietCores: number;
  quietBudgetMs: number;
  logLevel: string;
  /** STARTUP_DELAY_MS for the cold-start series' app (floor and berth): a slower-booting app. */
  bootDelayMs: number;
}

export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Options {
  const arg = (name: string): string | undefined => argValue(argv, name);
  const runId = checkRunId(arg('--run-id') ?? env.BENCH_COLD_RUN_ID ?? randomBytes(4).toString('hex'), 'run id');
  return {
    runs: int(arg('--runs') ?? env.BENCH_COLD_RUNS, 20, 10, 500, 'runs (at least 10)'),
    warmup: int(arg('--warmup') ?? env.BENCH_COLD_WARMUP, 2, 0, 20, 'warmup'),
    burst: int(arg('--burst') ?? env.BENCH_COLD_BURST, 1000, 1, 5000, 'burst'),
    settleMs: int(arg('--settle-ms') ?? env.BENCH_COLD_SETTLE_MS, 300, 0, 10_000, 'settle-ms'),
    json: resolve(arg('--json') ?? env.BENCH_COLD_JSON ?? 'bench/results/cold-start-latest.json'),
    runId,
    quietCores: Number(env.BENCH_QUIET_CORES ?? '0.3'),
    quietBudgetMs: int(env.BENCH_QUIET_BUDGET, 120, 0, 3600, 'BENCH_QUIET_BUDGET') * 1000,
    logLevel: env.BERTH_LOG_LEVEL ?? 'silent',
    bootDelayMs: int(arg('--boot-delay-ms') ?? env.BENCH_COLD_BOOT_DELAY_MS, 0, 0, 10_000, 'boot-delay-ms'),
  };
}
