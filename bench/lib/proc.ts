/** A process a benchmark started under `/usr/bin/time -v`, measured through /proc. */
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { childrenOf, processCpuS } from './procfs.js';

/**
 * A process the benchmark started: `/usr/bin/time -v -o <file> cmd...`, so its peak
 * RSS is reported at the end; `pid` is the measured process (the child of time).
 * Its pid goes to <tmp>/pids, where replicas.sh's trap finds it after a crash.
 */
export class Proc {
  readonly exited: Promise<number | null>;
  pid = 0;
  private stderrTail = '';

  constructor(
    readonly name: string,
    readonly wrapper: ChildProcess,
    readonly timeFile: string,
  ) {
    this.exited = new Promise((ok) => {
      if (wrapper.exitCode !== null) ok(wrapper.exitCode);
      else wrapper.once('exit', (code) => ok(code));
    });
    wrapper.stderr?.on('data', (c: Buffer) => (this.stderrTail = (this.stderrTail + c.toString()).slice(-4000)));
  }

  get running(): boolean {
    return this.wrapper.exitCode === null && this.wrapper.signalCode === null;
  }

  tail(): string {
    return this.stderrTail.trim().split('\n').slice(-8).join('\n');
  }

  /** The measured process and its children (nginx: master and worker). */
  pids(): number[] {
    return this.pid ? [this.pid, ...childrenOf(this.pid)] : [];
  }

  cpuS(): number {
    return this.pids().reduce((a, p) => a + processCpuS(p), 0);
  }

  /** TERM to the measured process (so time reports it), KILL after 8 s. */
  async stop(): Promise<void> {
    if (!this.running) return;
    const target = this.pid || this.wrapper.pid;
    try {
      if (target) process.kill(target, 'SIGTERM');
    } catch {
      // already gone
    }
    const done = await Promise.race([this.exited.then(() => true), sleep(8000).then(() => false)]);
    if (!done) {
      for (const p of [this.pid, this.wrapper.pid]) {
        try {
          if (p) process.kill(p, 'SIGKILL');
        } catch {
          // gone
        }
      }
      await Promise.race([this.exited, sleep(2000)]);
    }
  }
}
