import { tmpdir } from 'node:os';
import pino from 'pino';
import type { Registry } from 'prom-client';
import { buildConfig } from '../../src/config/load-config.js';
import { proxySettingsOf } from '../../src/cluster/gateway-workers.js';
import { WorkerPool } from '../../src/cluster/worker-pool.js';
import { FakeRuntime } from './fake-runtime.js';
import { fakeActivator } from './fake-activator.js';

// A WorkerPool for the unit tests: real forks of worker-main.js on the fake engine (no Docker).

/** The fake engines and activators made so far; a test file closes them in its after() (open ones keep the process alive). */
const made: Array<() => Promise<void>> = [];

export async function closeMadeActivators(): Promise<void> {
  for (const close of made.splice(0)) await close();
}

export function idleActivator() {
  const rt = new FakeRuntime();
  const activator = fakeActivator(rt);
  made.push(async () => {
    activator.close();
    await rt.close();
  });
  return activator;
}

export async function pool(count: number, registry?: Registry, watchdog?: { pingEveryMs: number; hungAfterMs: number }, logger = pino({ level: 'silent' }), activator = idleActivator(), html?: () => string, headers?: () => number): Promise<WorkerPool> {
  const config = await buildConfig({}, tmpdir());
  return new WorkerPool({
    count,
    activator,
    logger,
    settings: () => ({ ...proxySettingsOf(config, Buffer.alloc(32), undefined, 'silent'), ...(html ? { waitingPageHtml: html() } : {}), ...(headers ? { maxRequestHeaders: headers() } : {}) }),
    onRecords: () => undefined,
    ...(registry ? { registry } : {}),
    ...(watchdog ? { watchdog } : {}),
  });
}
