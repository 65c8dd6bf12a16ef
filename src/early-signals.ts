// Imported first by every entry of berth (the CLI's bin and each proxy worker's), before
// anything else is loaded: a signal's default applies until a listener of our own exists, and
// loading the rest takes a second or more on a busy machine.
import cluster from 'node:cluster';

/**
 * SIGUSR1 opens Node's inspector on 127.0.0.1:9229, through which any local user could run
 * code in the process (the gateway holds the admin token and the Docker socket; a CLI command,
 * its API token): never wanted, from the process's first moments. `berth serve` tells each
 * arrival once its logger exists (stop-signals.ts).
 */
export const NEVER_DEFAULT = ['SIGUSR1'] as const;

/**
 * A proxy worker leaves these to the control, which drains the workers (a Ctrl-C reaches the
 * whole process group: a worker that ended on it cut its connections instead of draining them).
 * SIGUSR2's default would end it outright. The control's death still ends it (its 'disconnect').
 */
export const LEFT_TO_THE_CONTROL = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR2'] as const;

/** The signals the process whose role this is ignores from its start. Pure. */
export function earlyIgnored(isProxyWorker: boolean): readonly NodeJS.Signals[] {
  return isProxyWorker ? [...NEVER_DEFAULT, ...LEFT_TO_THE_CONTROL] : NEVER_DEFAULT;
}

function ignored(): void {
  // A listener of our own is what replaces Node's default for the signal.
}

for (const signal of earlyIgnored(cluster.isWorker)) process.on(signal, ignored);
