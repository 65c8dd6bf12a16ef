import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readdirSync } from 'node:fs';
import { currentFdLimits } from '../../src/net/fd-limit.js';

/**
 * Runs this process out of file descriptors until release(): its soft limit is
 * set just above those open (with prlimit, as berth serve raises its own) and the
 * rest are taken, so a new descriptor (a thread's, a socket's) fails with EMFILE.
 * Call release() in a finally: it gives them back and restores the limit.
 */
export function exhaustDescriptors(): { release(): void } {
  const limits = currentFdLimits()!;
  const hard = Number.isFinite(limits.hard) ? String(limits.hard) : 'unlimited';
  const setSoft = (soft: number | string) => execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${soft}:${hard}`], { stdio: 'ignore' });
  setSoft(readdirSync('/proc/self/fd').length + 16);
  const held: number[] = [];
  try {
    for (let i = 0; i < 1_000; i++) held.push(openSync('/dev/null', 'r'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EMFILE') throw err;
  }
  return {
    release() {
      held.forEach((fd) => closeSync(fd));
      setSoft(Number.isFinite(limits.soft) ? limits.soft : 'unlimited');
    },
  };
}
