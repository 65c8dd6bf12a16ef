// Entry point of a child process running berth's ProxyServer alone, in front of
// fixed upstreams (StaticUpstreams), with the history hook on as the gateway has
// it. Lets tests point the real proxy code at misbehaving upstreams in the test
// process and still see the proxy die (exit) instead of taking the runner down.
//
// ADV_PROXY_TARGETS: JSON {app: port}; each app is routed at /u/<app>/ (prefix stripped).
// Prints "proxy listening on PORT" on stderr once ready.
import { pino } from 'pino';
import { ProxyServer } from '../../src/proxy/proxy-server.js';
import { RouteTable } from '../../src/proxy/route-table.js';
import { StaticUpstreams } from '../../src/proxy/static-upstreams.js';
import type { RequestRecord } from '../../src/store/store.js';

const targets = JSON.parse(process.env.ADV_PROXY_TARGETS ?? '{}') as Record<string, number>;
const records: RequestRecord[] = [];
const proxy = new ProxyServer({
  routes: new RouteTable(Object.keys(targets).map((app) => ({ app, routes: [{ path: `/u/${app}/`, stripPrefix: true }] }))),
  upstreams: new StaticUpstreams(Object.fromEntries(Object.entries(targets).map(([app, port]) => [app, { host: '127.0.0.1', port }]))),
  logger: pino({ level: process.env.ADV_LOG_LEVEL ?? 'warn' }),
  // As the gateway's history does: keep a bounded window of records.
  onRequestDone: (record) => {
    records.push(record);
    if (records.length > 1000) records.shift();
  },
});
const address = await proxy.listen('127.0.0.1', 0);
process.stderr.write(`proxy listening on ${address.port}\n`);
process.once('SIGTERM', () => void proxy.close(500).then(() => process.exit(0)));
