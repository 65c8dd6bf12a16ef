import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The process's open-file limits; Infinity for "unlimited". */
export interface FdLimits {
  soft: number;
  hard: number;
}

/** Descriptors kept for everything but client connections: upstreams, the store, the engine, logs. */
const MIN_RESERVE = 64;
const MAX_RESERVE = 1_000;
/** The connection cap never goes above this by default, however high the limit. */
const MAX_DEFAULT_CONNECTIONS = 10_000;

/** The "Max open files" line of /proc/<pid>/limits; undefined when absent. */
export function parseFdLimits(text: string): FdLimits | undefined {
  const line = text.split('\n').find((l) => l.startsWith('Max open files'));
  const fields = line?.slice('Max open files'.length).trim().split(/\s+/);
  if (!fields || fields.length < 2) return undefined;
  const value = (f: string) => (f === 'unlimited' ? Infinity : Number(f));
  const soft = value(fields[0]!);
  const hard = value(fields[1]!);
  return Number.isNaN(soft) || Number.isNaN(hard) ? undefined : { soft, hard };
}

/** This process's limits, read from /proc (Linux); undefined elsewhere. */
export function currentFdLimits(): FdLimits | undefined {
  try {
    return parseFdLimits(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * The default `limits.connections` for a soft open-file limit: each proxied
 * connection holds two descriptors (client and upstream), after a reserve for
 * the rest of the gateway; at most 10000. Without a known limit: 10000.
 * `listeners` is how many listeners take client connections (2 with the TLS
 * one): each has a cap of its own, so the descriptors are shared between them,
 * or a flood on both at once would take twice what the process has.
 */
export function defaultConnectionCap(softLimit: number | undefined, listeners = 1): number {
  if (softLimit === undefined || !Number.isFinite(softLimit)) return MAX_DEFAULT_CONNECTIONS;
  const reserve = Math.min(MAX_RESERVE, Math.max(MIN_RESERVE, Math.floor(softLimit / 4)));
  return Math.max(1, Math.min(MAX_DEFAULT_CONNECTIONS, Math.floor((softLimit - reserve) / 2 / listeners)));
}

/** The admin listener's cap whatever the limit: far more than operators and dashboards need. */
export const MAX_ADMIN_CONNECTIONS = 512;
const MIN_ADMIN_CONNECTIONS = 8;

/**
 * The admin listener's connection cap for a soft open-file limit: a sixteenth
 * of it, from 8 up to 512. Its connections come out of the reserve that
 * defaultConnectionCap keeps for the rest of the gateway (the store, the
 * engine's sockets): a flood of idle connections there, which needs no token,
 * must not take the descriptors a cold start's engine calls need.
 */
export function defaultAdminConnectionCap(softLimit: number | undefined): number {
  if (softLimit === undefined || !Number.isFinite(softLimit)) return MAX_ADMIN_CONNECTIONS;
  return Math.min(MAX_ADMIN_CONNECTIONS, Math.max(MIN_ADMIN_CONNECTIONS, Math.floor(softLimit / 16)));
}

/**
 * Raises the soft open-file limit to the hard one, as nginx's worker_rlimit_nofile
 * and HAProxy do at start. Node has no setrlimit in its API, so util-linux
 * `prlimit` is run on this process. (Node's own start-up already tries the same on
 * POSIX, so usually there is nothing left to do and no process is run; this makes
 * sure, and says so when the limit stays low.) Returns the limits in force
 * afterwards; a failure (no prlimit, not Linux) is reported through `warn` once
 * and changes nothing.
 */
export function raiseFdLimit(warn: (message: string) => void): FdLimits | undefined {
  const before = currentFdLimits();
  if (!before || before.soft >= before.hard) return before;
  const target = Number.isFinite(before.hard) ? String(before.hard) : 'unlimited';
  try {
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${target}:${target}`], { stdio: 'ignore', timeout: 5_000 });
  } catch (err) {
    warn(`could not raise the open-file limit from ${before.soft} to ${target} (prlimit: ${(err as Error).message}); connections are capped accordingly`);
    return before;
  }
  return currentFdLimits() ?? before;
}

/** Below this soft limit `berth serve` warns at start (nginx and HAProxy deployments run with far more). */
export const LOW_FD_LIMIT = 4_096;

/**
 * The start-up warning for limits that stay low after raiseFdLimit (a hard limit
 * of 1024 is still common under systemd and in containers), undefined when they
 * are high enough or unknown. Each client connection costs two descriptors: a low
 * limit caps connections far below what the host could serve.
 */
export function lowFdLimitWarning(limits: FdLimits | undefined): string | undefined {
  if (!limits || limits.soft >= LOW_FD_LIMIT) return undefined;
  return `the open-file limit is ${limits.soft} (hard ${limits.hard}): by default client connections are capped at ${defaultConnectionCap(limits.soft)} (limits.connections); raise it to at least ${LOW_FD_LIMIT} (LimitNOFILE= in a systemd unit, --ulimit nofile= for docker run, ulimit -n)`;
}

/**
 * The start-up warning for a `limits.connections` the open-file limit cannot
 * hold, undefined when it fits or the limit is unknown. Past the limit Node
 * emits nothing (libuv leaves the connections in the kernel's accept queue):
 * clients wait unanswered and no log line says why, so it is said once, here.
 */
export function connectionCapWarning(connections: number, softLimit: number | undefined, listeners: number): string | undefined {
  if (softLimit === undefined || !Number.isFinite(softLimit)) return undefined;
  const needed = 2 * connections * listeners;
  if (needed <= softLimit) return undefined;
  const each = listeners > 1 ? ' on each of the plain and the TLS listener' : '';
  return `limits.connections ${connections}${each} needs about ${needed} open files (a client and an upstream descriptor per connection), more than the open-file limit ${softLimit}: past it new connections wait unanswered; lower it (the default here is ${defaultConnectionCap(softLimit, listeners)}) or raise the limit`;
}

/**
 * True for a worker thread that could not start because the process is out of
 * file descriptors (Node: ERR_WORKER_INIT_FAILED, "…: EMFILE"): the process's
 * condition, not the thread's, which passes once connections close. Pure.
 */
export function threadLackedDescriptors(err: Error): boolean {
  return (err as NodeJS.ErrnoException).code === 'ERR_WORKER_INIT_FAILED' && /\b(EMFILE|ENFILE)\b/.test(err.message);
}
