import pino from 'pino';
import { Activator, type ActivatorOptions } from '../../src/activator/activator.js';
import type { AppState } from '../../src/activator/app-status.js';
import { checkBerthApp } from '../../src/spec/berth-v1.js';
import type { AppSpec } from '../../src/spec/types.js';
import { FakeRuntime, sleep } from './fake-runtime.js';

/** A berth/v1 spec for the fake engine: short timeouts so tests run in milliseconds. */
export function fakeSpec(name: string, extra: Record<string, unknown> = {}): AppSpec {
  const checked = checkBerthApp({ apiVersion: 'berth/v1', name, image: 'fake/app:1', port: 8080, readiness: { path: '/healthz' }, idleTimeout: '10m', startTimeout: '2s', ...extra });
  if (!checked.ok) throw new Error(`bad test spec: ${JSON.stringify(checked.issues)}`);
  return checked.value;
}

/** `options`: e.g. a short `resyncEveryMs` (the default, 10 s, never fires within a test), or a `logger` to read what it logs. */
export function fakeActivator(runtime: FakeRuntime, options: Partial<ActivatorOptions> = {}): Activator {
  const activator = new Activator({
    runtime,
    logger: pino({ level: 'silent' }),
    defaults: {
      idleTimeoutMs: 600_000,
      queueSize: 1_000,
      waitingPage: {},
      policy: { images: [], networks: [], bindMountRoots: [], allowPrivileged: false, capabilities: [], allowHostNetwork: false, allowHostPid: false },
    },
    ...options,
  });
  activator.start();
  return activator;
}

/** Polls (bounded) until the app is in `state`; fails with the state it saw. */
export async function waitForState(activator: Activator, app: string, state: AppState, withinMs = 3_000): Promise<void> {
  const deadline = performance.now() + withinMs;
  while (performance.now() < deadline) {
    if (activator.status(app)?.state === state) return;
    await sleep(10);
  }
  throw new Error(`app ${app} is ${activator.status(app)?.state}, not ${state}, after ${withinMs} ms`);
}

/** Polls (bounded) until `check` holds. */
export async function eventually(what: string, check: () => boolean, withinMs = 3_000): Promise<void> {
  const deadline = performance.now() + withinMs;
  while (performance.now() < deadline) {
    if (check()) return;
    await sleep(10);
  }
  throw new Error(`${what}: not within ${withinMs} ms`);
}
