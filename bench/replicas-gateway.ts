/**
 * berth's real gateway as a process of its own, for the replicas benchmark
 * (bench/replicas.ts starts it, pinned with taskset, and reads its CPU time
 * from /proc). It is `berth serve` with two differences: every container and
 * volume it creates carries the benchmark's labels (`berth.bench=true`,
 * `berth.bench.run=<id>`), so the benchmark can find and remove them, and it
 * prints its listeners as one JSON line on stdout once it listens.
 *
 *   BENCH_ADMIN_TOKEN=... node dist/bench/replicas-gateway.js --config <berth.yaml> --run-id <id>
 *
 * SIGTERM/SIGINT: the gateway closes (requests in flight finish) and the process
 * exits; containers are left as they are, like `berth serve` (the benchmark
 * removes them by label).
 */
import { pino, destination } from 'pino';
import { Gateway } from '../src/gateway/gateway.js';
import { DockerRuntime } from '../src/runtime/docker/docker-runtime.js';
import { SqliteStore } from '../src/store/sqlite-store.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const config = arg('--config');
  const runId = arg('--run-id');
  if (!config || !runId) throw new Error('usage: replicas-gateway.js --config <file> --run-id <id>');
  const labels = { 'berth.bench': 'true', 'berth.bench.run': runId };
  const gateway = new Gateway(config, {
    logger: pino({ level: process.env.BERTH_LOG_LEVEL ?? 'warn' }, destination(2)),
    openStore: async (c) => {
      const store = new SqliteStore({ path: c.store });
      await store.open();
      return store;
    },
    runtime: (c, hooks) => new DockerRuntime({ docker: c.docker, extraLabels: labels, defaultResources: hooks.defaultResources, inputUrl: hooks.inputUrl }),
    adminToken: process.env.BENCH_ADMIN_TOKEN || undefined,
  });
  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    gateway.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  await gateway.start();
  process.stdout.write(JSON.stringify({ proxyPort: gateway.proxyAddress?.port, adminPort: gateway.adminAddress?.port, pid: process.pid }) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`replicas-gateway: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
