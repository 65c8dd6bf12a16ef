// A proxy worker process (`workers: N`), forked by the control process's
// WorkerPool. It owns nothing but its connections: routes and instances come
// from the control's snapshots, cold starts and failures go back to it.
import { createLogger } from '../log.js';
import { messageOf } from '../errors.js';
import { ProxyServer } from '../proxy/proxy-server.js';
import { RouteTable } from '../proxy/route-table.js';
import type { RequestRecord } from '../store/store.js';
import type { FromProxy, ProxySettings, RequestFacts, RouteEntry, ToProxy, WakeAnswer, WireRecord } from './state-feed.js';
import { wireRecord } from './wire.js';
import { WorkerActivity } from './worker-activity.js';
import { WorkerUpstreams } from './worker-upstreams.js';

/** How often finished requests go to the control (history, metrics, accounting); sooner when this many are waiting. */
const RECORDS_EVERY_MS = 100;
const RECORDS_BATCH = 512;

function send(message: FromProxy): void {
  // A control that is gone cannot be told; the 'disconnect' handler ends this process.
  if (process.connected) process.send!(message);
}

// The control decides when workers stop (a Ctrl-C reaches the whole process group).
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => undefined);

let nextId = 1;
const wakes = new Map<number, (answer: WakeAnswer) => void>();
const checks = new Map<number, (gone: boolean) => void>();
let records: WireRecord[] = [];
let recordTimer: NodeJS.Timeout | undefined;

function flushRecords(): void {
  clearTimeout(recordTimer);
  recordTimer = undefined;
  if (records.length === 0) return;
  send({ t: 'records', records });
  records = [];
}

function recordDone(record: RequestRecord): void {
  records.push(wireRecord(record));
  if (records.length >= RECORDS_BATCH) flushRecords();
  else if (!recordTimer) {
    recordTimer = setTimeout(flushRecords, RECORDS_EVERY_MS);
    recordTimer.unref();
  }
}

let upstreams: WorkerUpstreams | undefined;
const activity = new WorkerActivity(
  (apps) => send({ t: 'activity', apps }),
  (app) => upstreams?.inFlightByInstance(app) ?? [],
);
const link = {
  activity,
  wake: (app: string, facts: RequestFacts) =>
    new Promise<WakeAnswer>((resolve) => {
      const id = nextId++;
      wakes.set(id, resolve);
      send({ t: 'wake', id, app, facts });
    }),
  unreachable: (app: string, instanceId: string, failures: number) =>
    new Promise<boolean>((resolve) => {
      const id = nextId++;
      checks.set(id, resolve);
      send({ t: 'unreachable', id, app, instanceId, failures });
    }),
};

let proxy: ProxyServer | undefined;

function start(settings: ProxySettings, routes: RouteEntry[]): void {
  const logger = createLogger(settings.logLevel);
  const source = new WorkerUpstreams(link, Buffer.from(settings.inputSecret, 'hex'));
  upstreams = source;
  source.setRoutes(routes);
  const html = settings.waitingPageHtml;
  proxy = new ProxyServer({
    routes: new RouteTable(routes),
    upstreams: source,
    trustedProxies: settings.trustedProxies,
    maxRequestHeaders: settings.maxRequestHeaders,
    timeouts: settings.timeouts,
    appTimeouts: (app) => source.appTimeouts(app),
    maxConnections: settings.maxConnections,
    waitingPageHtml: () => html,
    logger,
    onRequestDone: recordDone,
  });
  proxy.listen(settings.host, settings.port).then(
    (address) => send({ t: 'listening', port: address.port }),
    (err: unknown) => {
      send({ t: 'listenFailed', error: messageOf(err) });
      process.exitCode = 1;
      process.disconnect();
    },
  );
}

async function close(graceMs: number): Promise<void> {
  await proxy?.close(graceMs);
  activity.flush();
  flushRecords();
  send({ t: 'closed' });
  process.disconnect();
}

process.on('message', (message: ToProxy) => {
  switch (message.t) {
    case 'hello':
      start(message.settings, message.routes);
      upstreams!.applyApps(message.apps);
      return;
    case 'routes':
      upstreams?.setRoutes(message.routes);
      proxy?.setRoutes(new RouteTable(message.routes));
      return;
    case 'apps':
      upstreams?.applyApps(message.apps);
      return;
    case 'fence':
      upstreams?.applyApps([message.app]);
      // After this turn's continuations: a request just handed an instance by a wake answer counts too.
      setImmediate(() => {
        activity.flush();
        send({ t: 'fenced', id: message.id });
      });
      return;
    case 'woken':
      wakes.get(message.id)?.(message.answer);
      wakes.delete(message.id);
      return;
    case 'checked':
      checks.get(message.id)?.(message.gone);
      checks.delete(message.id);
      return;
    case 'close':
      void close(message.graceMs);
      return;
  }
});

// Messages that arrive before a listener exists are lost: the control sends its hello once asked.
send({ t: 'ready' });

// The control died (kill -9): its listener share is gone with it, and so is this worker.
process.on('disconnect', () => {
  void (proxy?.close(0) ?? Promise.resolve()).finally(() => process.exit());
  setTimeout(() => process.exit(), 2_000).unref();
});
