// A proxy worker process (`workers: N`), forked by the control process's
// WorkerPool. It owns nothing but its connections: routes and instances come
// from the control's snapshots, cold starts and failures go back to it.
// Its signals are ignored from its first moments, before this loads: worker-entry.ts.
import { createLogger } from '../log.js';
import { ConfigError, messageOf } from '../errors.js';
import { listenFailure } from '../net/listen-failure.js';
import { ProxyServer } from '../proxy/proxy-server.js';
import { RouteTable } from '../proxy/route-table.js';
import type { RequestRecord } from '../store/store.js';
import { HttpsListener } from '../tls/https-listener.js';
import type { EdgeSnapshot, FromProxy, ProxySettings, RequestFacts, RouteEntry, ToProxy } from './state-feed.js';
import { ControlLink } from './control-link.js';
import { ControlWatch } from './control-watch.js';
import { applyRouteDelta } from './route-delta.js';
import { RecordOutbox } from './record-outbox.js';
import { wireRecord } from './wire.js';
import { REPORT_EVERY_MS, WorkerActivity } from './worker-activity.js';
import { WorkerEdge } from './worker-edge.js';
import { WorkerUpstreams } from './worker-upstreams.js';

let nextId = 1;
/** Every message but the batched records and activity reports, counted until written: bounded while the control does not read (control-link.ts). */
const control = new ControlLink({
  send: (message, written) => {
    // A control that is gone cannot be told; the 'disconnect' handler ends this process.
    if (process.connected) process.send!(message, undefined, {}, () => written());
    else written();
  },
  nextId: () => nextId++,
});

function send(message: FromProxy): void {
  control.send(message);
}

/** Without a bound in the hello: the control's own default for a hung worker. */
const CONTROL_SILENT_MS = 15_000;
let watch: ControlWatch | undefined;
const checks = new Map<number, (gone: boolean) => void>();
/** Finished requests for the control's history, metrics and accounting, bounded while it does not read (record-outbox.ts). */
const outbox = new RecordOutbox({
  send: (records, written) => {
    if (process.connected) process.send!({ t: 'records', records } satisfies FromProxy, undefined, {}, () => written());
    else written();
  },
  onDrop: (event) =>
    event.dropping
      ? workerLogger?.warn('the control process does not read: finished requests are dropped from its history and metrics until it does')
      : workerLogger?.warn({ dropped: event.dropped }, 'the control process reads again; finished requests were dropped meanwhile'),
});

function recordDone(record: RequestRecord): void {
  outbox.add(wireRecord(record));
}

let upstreams: WorkerUpstreams | undefined;
/** Activity reports handed to the channel and not yet written: the control is not reading. */
let activityUnwritten = 0;
const activity = new WorkerActivity(
  (apps) => {
    if (!process.connected) return;
    activityUnwritten++;
    process.send!({ t: 'activity', apps } satisfies FromProxy, undefined, {}, () => activityUnwritten--);
  },
  (app) => upstreams?.inFlightByInstance(app) ?? [],
  REPORT_EVERY_MS,
  () => activityUnwritten > 0,
);
const link = {
  activity,
  wake: (app: string, facts: RequestFacts) => {
    if (watch?.silent) return { answer: Promise.resolve(watch.silentAnswer(app)), leave: () => undefined };
    // Only while unanswered: a client that goes after its answer holds no place.
    return control.wake(app, facts);
  },
  unreachable: (app: string, instanceId: string, failures: number) =>
    new Promise<boolean>((resolve) => {
      const id = nextId++;
      checks.set(id, resolve);
      send({ t: 'unreachable', id, app, instanceId, failures });
    }),
};

/** The routed apps: the full set from the hello, then the control's changes. */
const routed = new Map<string, RouteEntry>();
let proxy: ProxyServer | undefined;
/** What a reload may change (a `settings` message), as in one process. */
let workerLogger: ReturnType<typeof createLogger> | undefined;
let waitingPageHtml: string | undefined;
let edge: WorkerEdge | undefined;
let https: HttpsListener | undefined;

function start(settings: ProxySettings, routes: RouteEntry[], edgeSnapshot: EdgeSnapshot | undefined): void {
  const logger = (workerLogger = createLogger(settings.logLevel));
  const source = new WorkerUpstreams(link, Buffer.from(settings.inputSecret, 'hex'));
  upstreams = source;
  source.setRoutes(routes);
  waitingPageHtml = settings.waitingPageHtml;
  proxy = new ProxyServer({
    routes: new RouteTable(routes),
    upstreams: source,
    trustedProxies: settings.trustedProxies,
    maxRequestHeaders: settings.maxRequestHeaders,
    timeouts: settings.timeouts,
    appTimeouts: (app) => source.appTimeouts(app),
    maxConnections: settings.maxConnections,
    ...(settings.maxConnectionsPerClient !== undefined ? { maxConnectionsPerClient: settings.maxConnectionsPerClient } : {}),
    waitingPageHtml: () => waitingPageHtml,
    logger,
    onRequestDone: recordDone,
  });
  const tls = settings.tls;
  if (tls) {
    const served = (edge = new WorkerEdge(logger));
    if (edgeSnapshot) served.apply(edgeSnapshot);
    served.setRoutes(routes);
    proxy.setEdge(served);
    https = new HttpsListener({
      proxy,
      contextFor: (name) => served.contextFor(name),
      logger,
      headersTimeoutMs: settings.timeouts.clientHeaderMs!,
      ...(settings.maxConnections !== undefined ? { maxConnections: settings.maxConnections } : {}),
      maxRequestHeaders: settings.maxRequestHeaders,
    });
  }
  // Each failure names its listener: the kernel's refusals as the config key, in the words a single
  // process uses (listen-failure.ts), the others with the address; the control's error says which.
  const where = (key: string, host: string, port: number, label = host) => (err: unknown) => {
    const told = listenFailure(key, host, port, err);
    return Promise.reject(told instanceof ConfigError ? told : new Error(`${label}:${port}: ${messageOf(err)}`));
  };
  const listening = proxy.listen(settings.host, settings.port).then(
    async (address) => {
      const secure = tls && https ? await https.listen(tls.host, tls.port).catch(where('tls.listen', tls.host, tls.port, `TLS ${tls.host}`)) : undefined;
      return { port: address.port, ...(secure ? { tlsPort: secure.port } : {}) };
    },
    where('listen', settings.host, settings.port),
  );
  listening.then(
    (ports) => send({ t: 'listening', ...ports }),
    (err: unknown) => {
      send({ t: 'listenFailed', error: messageOf(err), ...(err instanceof ConfigError ? { configKey: true as const } : {}) });
      process.exitCode = 1;
      disconnect();
    },
  );
}

async function close(graceMs: number): Promise<void> {
  https?.stopAccepting();
  await proxy?.close(graceMs);
  await https?.close();
  activity.flush();
  // Every held record, not only the batches one flush hands over (record-outbox.ts).
  await outbox.drain();
  send({ t: 'closed' });
  disconnect();
}

/** Lets go of the control's channel, which a control already gone has closed (disconnect() then throws). */
function disconnect(): void {
  if (process.connected) process.disconnect();
}

/** Fails what waits on a silent control (see control-watch.ts); checked a few times per bound. */
function watchControl(silentAfterMs: number): void {
  watch = new ControlWatch(silentAfterMs);
  const sweep = setInterval(() => {
    if (!watch?.silent) return;
    // Each client has its answer: the control, once it reads again, gives back the place each hold took
    // in the app's wait queue (queueSize), which it kept until the start ended otherwise.
    const silent = watch;
    control.failAll((app) => silent.silentAnswer(app));
    // Whether an instance is gone is unknown: taken as not, as when the check cannot be made.
    for (const [id, check] of checks) {
      checks.delete(id);
      check(false);
    }
  }, Math.max(50, Math.min(1_000, silentAfterMs / 4)));
  sweep.unref();
}

process.on('message', (message: ToProxy) => {
  watch?.heard();
  switch (message.t) {
    case 'hello':
      watchControl(message.controlSilentMs ?? CONTROL_SILENT_MS);
      for (const entry of message.routes) routed.set(entry.app, entry);
      start(message.settings, message.routes, message.edge);
      upstreams!.applyApps(message.apps);
      return;
    case 'routes': {
      applyRouteDelta(routed, message);
      const routes = [...routed.values()];
      upstreams?.setRoutes(routes);
      proxy?.setRoutes(new RouteTable(routes));
      edge?.setRoutes(routes);
      return;
    }
    case 'edge':
      edge?.apply(message.edge);
      send({ t: 'edgeApplied', id: message.id });
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
    case 'goAway':
      upstreams?.tunnelsGoAway(message.app);
      return;
    case 'woken':
      control.answered(message.id, message.answer);
      return;
    case 'checked':
      checks.get(message.id)?.(message.gone);
      checks.delete(message.id);
      return;
    case 'close':
      void close(message.graceMs);
      return;
    case 'settings':
      waitingPageHtml = message.waitingPageHtml;
      if (workerLogger) workerLogger.level = message.logLevel;
      return;
    case 'ping':
      control.pong();
      return;
  }
});

// Messages that arrive before a listener exists are lost: the control sends its hello once asked.
send({ t: 'ready' });

// The control died (kill -9): its listener share is gone with it, and so is this worker.
process.on('disconnect', () => {
  void Promise.all([proxy?.close(0), https?.close()]).finally(() => process.exit());
  setTimeout(() => process.exit(), 2_000).unref();
});
