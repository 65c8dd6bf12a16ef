/**
 * berth's proxy hot path alone, for the benchmark: one app routed by path
 * prefix to a fixed backend on the host (no Docker, no docker-proxy hop, no
 * activator), so the figures are the proxy's own. Finished requests feed the
 * Prometheus metrics as in the gateway (onRequestDone → Metrics.requestDone).
 *
 *   node dist/bench/berth-proxy.js --port 18080 --backend 127.0.0.1:18081 [--prefix /session/bench/]
 *
 * Prints `listening <port>` once it accepts connections; SIGTERM/SIGINT drain
 * and exit 0 (so `/usr/bin/time -v` reports a normal exit).
 */
import { pino } from 'pino';
import { Metrics } from '../src/metrics/metrics.js';
import { ProxyServer } from '../src/proxy/proxy-server.js';
import { RouteTable } from '../src/proxy/route-table.js';
import { StaticUpstreams } from '../src/proxy/static-upstreams.js';

interface Args {
  host: string;
  port: number;
  backendHost: string;
  backendPort: number;
  prefix: string;
}

function parseArgs(argv: readonly string[]): Args {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const backend = value('--backend') ?? process.env.BENCH_BACKEND;
  const port = Number(value('--port') ?? process.env.BENCH_PORT ?? '0');
  if (!backend || !/^[^:]+:\d+$/.test(backend)) throw new Error('usage: berth-proxy --port <port> --backend <host:port> [--prefix /session/bench/]');
  const [backendHost, backendPort] = backend.split(':') as [string, string];
  return {
    host: value('--host') ?? '127.0.0.1',
    port,
    backendHost,
    backendPort: Number(backendPort),
    prefix: value('--prefix') ?? '/session/bench/',
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const app = 'bench';
  const metrics = new Metrics();
  const proxy = new ProxyServer({
    routes: new RouteTable([{ app, routes: [{ path: args.prefix, stripPrefix: false }] }]),
    upstreams: new StaticUpstreams({ [app]: { host: args.backendHost, port: args.backendPort } }),
    logger: pino({ level: 'silent' }),
    onRequestDone: (record) => metrics.requestDone(record),
  });
  const address = await proxy.listen(args.host, args.port);
  process.stdout.write(`listening ${address.port}\n`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    proxy.close(1_000).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`berth-proxy: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
