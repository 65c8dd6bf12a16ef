/** Waiting for a quiet machine: the benchmarks measure only while other work uses few cores, within a time budget. */
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuBusyTicks } from './procfs.js';
import { fmt } from './stats.js';

/** Cores kept busy over `ms` (all processes; ours are idle while this runs). */
export async function busyCores(ms: number, ticksPerS: number): Promise<number> {
  const a = cpuBusyTicks().all;
  await sleep(ms);
  return (cpuBusyTicks().all - a) / ticksPerS / (ms / 1000);
}

export interface QuietOptions {
  maxCores: number;
  /** The budget shared by the whole run. */
  budgetMs: number;
  log: (msg: string) => void;
  /** The first look at the machine, and each look while it is busy. */
  firstSampleMs: number;
  sampleMs: number;
  ticksPerS: number;
  /** Say when the machine is quiet again (or the budget is spent). */
  sayWhenDone: boolean;
}

export class QuietWaiter {
  waitedMs = 0;
  private budgetMs: number;

  constructor(private readonly o: QuietOptions) {
    this.budgetMs = o.budgetMs;
  }

  get budgetLeft(): boolean {
    return this.budgetMs > 0;
  }

  /** Waits (from the shared budget) until other work uses less than maxCores; returns the load last seen. */
  async wait(): Promise<number> {
    let load = await busyCores(this.o.firstSampleMs, this.o.ticksPerS);
    let announced = false;
    while (load > this.o.maxCores && this.budgetMs > 0) {
      if (!announced) this.o.log(`  machine busy (${fmt(load, 2)} cores used by other work): waiting (budget ${Math.round(this.budgetMs / 1000)} s left)`);
      announced = true;
      const began = performance.now();
      load = await busyCores(this.o.sampleMs, this.o.ticksPerS);
      const spent = performance.now() - began;
      this.budgetMs -= spent;
      this.waitedMs += spent;
    }
    if (announced && this.o.sayWhenDone) this.o.log(load <= this.o.maxCores ? '  machine quiet again' : '  quiet-wait budget spent: measuring anyway');
    return load;
  }
}
