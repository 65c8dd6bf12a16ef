import type { EventEmitter } from 'node:events';

/** What `berth serve` does on the signals that stop it. */
export interface StopActions {
  /** The first SIGTERM or SIGINT: drain requests in flight, then exit. */
  drain(signal: string): void;
  /** A second SIGTERM or SIGINT while draining: exit now, as Caddy and Traefik do. */
  exitNow(signal: string): void;
}

/**
 * SIGTERM and SIGINT: the first drains, any second one (of either kind) ends the
 * process at once. Listening with `on`, not `once`: after a `once` listener went,
 * a second SIGTERM got Node's default (death by signal, no word said) and a SIGINT
 * after a SIGTERM started a second drain of a gateway already closing.
 */
export function stopOnSignals(target: Pick<EventEmitter, 'on'>, actions: StopActions): void {
  let draining = false;
  const onSignal = (signal: string) => {
    if (draining) return actions.exitNow(signal);
    draining = true;
    actions.drain(signal);
  };
  for (const signal of STOP_SIGNALS) target.on(signal, () => onSignal(signal));
}

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * Signals berth does not act on, each with why Node's default must not apply.
 * SIGUSR1 opens Node's inspector on 127.0.0.1:9229: any local user could then run
 * code inside the gateway, which holds the admin token and the Docker socket (as good
 * as root). SIGUSR2 ends a Node process outright, with no drain (a log rotation
 * script written for nginx sends these). A listener of our own replaces both defaults.
 */
export const IGNORED_SIGNALS = {
  SIGUSR1: 'it would open the Node inspector, through which any local user could run code in the gateway',
  SIGUSR2: 'berth has no use for it (SIGHUP reloads, SIGTERM drains and exits)',
} as const;

/** Listens for the IGNORED_SIGNALS, telling each arrival; from the process's first moments, as a start can take a while. */
export function ignoreSignals(target: Pick<EventEmitter, 'on'>, told: (signal: string, why: string) => void): void {
  for (const [signal, why] of Object.entries(IGNORED_SIGNALS)) target.on(signal, () => told(signal, why));
}

/** Runs `run` after `ms` unless cancelled (the returned function); injectable so tests need no clock. */
export type Schedule = (ms: number, run: () => void) => () => void;

const unrefTimer: Schedule = (ms, run) => {
  const timer = setTimeout(run, ms);
  // A start that settles and a clean drain exit on their own, before it.
  timer.unref();
  return () => clearTimeout(timer);
};

/**
 * How long a start may go on after a stop signal. Each engine and store call of the start has
 * a bound of its own, but there are many of them (an image look per app): an engine that
 * answered each just inside its timeout held a first SIGTERM for minutes, with no end known.
 */
export const START_AFTER_STOP_MS = 30_000;

/**
 * Bounds a stop asked for during the start: `overdue` runs `boundMs` after the signal unless
 * the start settled first (`settled`: the drain, bounded by drainTimeout, takes over).
 */
export function boundStartAfterStop(overdue: (boundMs: number) => void, boundMs = START_AFTER_STOP_MS, schedule: Schedule = unrefTimer): { settled(): void } {
  let cancel: (() => void) | undefined = schedule(boundMs, () => {
    cancel = undefined;
    overdue(boundMs);
  });
  return {
    settled: () => {
      cancel?.();
      cancel = undefined;
    },
  };
}
