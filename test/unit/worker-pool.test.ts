// The control's pool of proxy worker processes (real forks of worker-main.js on
// the fake engine; no Docker): a worker that dies while the control writes to it,
// a listener port another process holds, restart storms and what /metrics labels.
// The watchdog's hung-worker test is worker-pool-watchdog.test.ts.
import cluster from 'node:cluster';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/errors.js';
import { request } from 'node:http';
import { connect, createServer, type AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { WireRecord } from '../../src/cluster/state-feed.js';
import { helloSettings, reforkPlan, replacementPorts } from '../../src/cluster/worker-pool.js';
import { FakeRuntime } from '../support/fake-runtime.js';
import { freePort } from '../support/free-port.js';
import { eventually, fakeActivator, fakeSpec } from '../support/fake-activator.js';
import { timedGet } from '../support/http-requests.js';
import { routeEntriesOf } from '../../src/cluster/gateway-workers.js';
import { closeMadeActivators, pool } from '../support/worker-pool-harness.js';

after(closeMadeActivators);

/** Blocks this thread (no event loop turn) until `pid` has exited: the control has not seen the exit yet. */
function waitDeadSync(pid: number): void {
  const deadline = Date.now() + 5_000;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (Date.now() < deadline) {
    let state: string;
    try {
      state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0]!;
    } catch {
      return;
    }
    if (state === 'Z') return;
    Atomics.wait(pause, 0, 0, 10);
  }
  throw new Error(`worker ${pid} did not die`);
}

test('a worker killed while the control writes to it: the write fails quietly, the control lives on and replaces it', { timeout: 30_000 }, async (t) => {
  const workers = await pool(2);
  t.after(() => workers.close(1_000));
  await workers.listen('127.0.0.1', 0);
  const [victim, survivor] = workers.pids;
  process.kill(victim!, 'SIGKILL');
  waitDeadSync(victim!);
  // The channel to the dead worker is still open as far as node knows: these writes hit a closed pipe (EPIPE).
  for (let i = 0; i < 50; i++) workers.feed.publishRoutes([{ app: `a${i}`, routes: [{ path: `/a${i}/`, stripPrefix: false }], balance: 'round-robin' }]);
  // The control lived through the writes and let the dead worker go (its replacement is the next tests' matter).
  await eventually('the exit handled', () => !workers.pids.includes(victim!), 10_000);
  assert.ok(workers.pids.includes(survivor!), 'the other worker was left alone');
});

test('a listener port another process holds: listen rejects naming it, and close() ends every worker', { timeout: 30_000 }, async (t) => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.after(() => holder.close());
  const { port } = holder.address() as AddressInfo;
  const workers = await pool(2);
  // In the words and error class of a single process (listen-failure.ts), naming the key, not in the worker pool's own.
  await assert.rejects(workers.listen('127.0.0.1', port), (err: Error) => {
    assert.ok(err instanceof ConfigError, `a ConfigError, not ${err.constructor.name}: ${err.message}`);
    assert.match(err.message, new RegExp(`^listen: cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use .*\\(EADDRINUSE\\)$`));
    return true;
  });
  const pids = workers.pids;
  await workers.close(1_000);
  for (const pid of pids) assert.throws(() => process.kill(pid, 0), /ESRCH/, `worker ${pid} is gone`);
});

test('berth_worker_requests_total is labelled by slot: a replacement counts on in the slot it took over, so restarts add no series', { timeout: 30_000 }, async (t) => {
  const registry = new Registry();
  const workers = await pool(2, registry);
  t.after(() => workers.close(1_000));
  await workers.listen('127.0.0.1', 0);
  const record: WireRecord = [Date.now(), 'a', 'GET', '/', 200, 1, 0, 2, '127.0.0.1', 0, null, null];
  const serveOne = () => {
    // As the pool hears a worker's batch (its 'message' event).
    for (const worker of Object.values(cluster.workers ?? {})) if (worker && workers.pids.includes(worker.process.pid!)) worker.emit('message', { t: 'records', records: [record] });
  };
  serveOne();
  const victim = workers.pids[0]!;
  process.kill(victim, 'SIGKILL');
  await eventually('a replacement worker', () => workers.pids.length === 2 && !workers.pids.includes(victim), 10_000);
  serveOne();
  const series = (await registry.getSingleMetric('berth_worker_requests_total')!.get()).values;
  assert.deepEqual(series.map((v) => v.labels.worker).sort(), ['0', '1']);
  assert.equal(series.reduce((sum, v) => sum + v.value, 0), 4, 'every record counted once');
});

test('reforkPlan: a crash loop waits longer each time (1 s doubling to 5 s); a worker that lived 10 s is replaced at once and clears the count', () => {
  const cases: Array<{ livedMs: number; before: number; pauseMs: number; after: number }> = [
    { livedMs: 60_000, before: 0, pauseMs: 0, after: 0 },
    { livedMs: 10_000, before: 5, pauseMs: 0, after: 0 },
    { livedMs: 200, before: 0, pauseMs: 1_000, after: 1 },
    { livedMs: 200, before: 1, pauseMs: 2_000, after: 2 },
    { livedMs: 9_000, before: 2, pauseMs: 4_000, after: 3 },
    { livedMs: 200, before: 3, pauseMs: 5_000, after: 4 },
    { livedMs: 200, before: 40, pauseMs: 5_000, after: 41 },
  ];
  for (const c of cases) assert.deepEqual(reforkPlan(c.livedMs, c.before), { pauseMs: c.pauseMs, quickDeaths: c.after }, JSON.stringify(c));
});

test('a replacement that cannot listen (its port taken while no worker held it) says why in the log', { timeout: 30_000 }, async (t) => {
  const lines: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
  const workers = await pool(1, undefined, undefined, logger);
  t.after(() => workers.close(1_000));
  // Picked right before it is bound, not before the worker starts: the port is free for less time for another to take.
  const port = await freePort();
  await workers.listen('127.0.0.1', port);
  const [only] = workers.pids;
  process.kill(only!, 'SIGKILL');
  // With its only worker gone the listening socket is closed: another process takes the port before the replacement (after its pause).
  const thief = createServer();
  t.after(() => thief.close());
  await eventually('the port free', () => workers.pids.length === 0, 5_000);
  await new Promise<void>((resolve, reject) => thief.once('error', reject).listen(port, '127.0.0.1', resolve));
  await eventually('the replacement failing to listen, logged with its reason', () => lines.some((l) => l.includes('EADDRINUSE') && l.includes(`127.0.0.1:${port}`)), 10_000);
});

test('a reload reaches the live workers: the waiting page shows the new html (it reached only replacements before)', { timeout: 30_000 }, async (t) => {
  const rt = new FakeRuntime();
  rt.behave('web', { readyAfterMs: 20_000 });
  const activator = fakeActivator(rt);
  t.after(async () => {
    // A delete cancels the start at once (a close would let it run its 20 s).
    await activator.reconcile([], ['web']);
    activator.close();
    await rt.close();
  });
  const spec = fakeSpec('web', { waiting: 'page', startTimeout: '60s' });
  await activator.reconcile([spec]);
  let html = '<p>PAGE-A</p>';
  const workers = await pool(1, undefined, undefined, undefined, activator, () => html);
  t.after(() => workers.close(1_000));
  const { port } = await workers.listen('127.0.0.1', 0);
  workers.feed.publishRoutes(routeEntriesOf([spec]));
  const page = async () => (await timedGet(port, '/session/web/', { headers: { accept: 'text/html' }, timeoutMs: 10_000 })).body;
  assert.match(await page(), /PAGE-A/);
  html = '<p>PAGE-B</p>';
  workers.settingsChanged();
  // The settings go over IPC and the request over TCP: a few tries, bounded.
  let served = '';
  for (const deadline = performance.now() + 5_000; performance.now() < deadline && !served.includes('PAGE-B'); ) served = await page();
  assert.match(served, /PAGE-B/);
});

test('a replacement forked after a reload runs with the limits of its peers (they change at a restart only)', { timeout: 30_000 }, async (t) => {
  let limit = 100;
  let html = '<p>PAGE-A</p>';
  const workers = await pool(1, undefined, undefined, undefined, undefined, () => html, () => limit);
  t.after(() => workers.close(1_000));
  // A fixed port: the replacement of an only worker binds it again (port 0 would be a new one).
  const port = await freePort();
  await workers.listen('127.0.0.1', port);
  const many = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`x-h${i}`, 'v']));
  const before = (await timedGet(port, '/', { headers: many })).status;
  assert.equal(before, 404, '20 headers are within the start limit: no route');
  // A reload lowers the limit (it takes a restart) and changes the page (it takes effect at once).
  limit = 5;
  html = '<p>PAGE-B</p>';
  const [first] = workers.pids;
  process.kill(first!, 'SIGKILL');
  await eventually('a replacement', () => workers.pids.length === 1 && workers.pids[0] !== first, 10_000);
  let reply = await timedGet(port, '/', { headers: many }).catch(() => undefined);
  for (const deadline = performance.now() + 5_000; !reply && performance.now() < deadline; ) reply = await timedGet(port, '/', { headers: many }).catch(() => undefined);
  assert.ok(reply, 'the replacement answers');
  assert.equal(reply.status, 404, 'the replacement keeps the limit its peers run with (a lower one refuses the 20 headers)');
});

test('helloSettings: restart-only settings from the start, the page and log level from now', () => {
  const start = { trustedProxies: ['10.0.0.1'], maxRequestHeaders: 100, timeouts: { connectMs: 1 }, logLevel: 'info', inputSecret: 'aa', waitingPageHtml: 'A' };
  const now = { trustedProxies: [], maxRequestHeaders: 5, timeouts: { connectMs: 2 }, logLevel: 'debug', inputSecret: 'bb' };
  assert.deepEqual(helloSettings(start, now), { trustedProxies: ['10.0.0.1'], maxRequestHeaders: 100, timeouts: { connectMs: 1 }, logLevel: 'debug', inputSecret: 'aa' });
  assert.deepEqual(helloSettings(start, { ...now, waitingPageHtml: 'B' }).waitingPageHtml, 'B');
});

test("a worker's report that comes after its exit does not take back the activity its exit gave back; its last records still count", { timeout: 30_000 }, async (t) => {
  const rt = new FakeRuntime();
  const activator = fakeActivator(rt);
  t.after(async () => {
    activator.close();
    await rt.close();
  });
  await activator.reconcile([fakeSpec('web')]);
  const registry = new Registry();
  const workers = await pool(2, registry, undefined, undefined, activator);
  t.after(() => workers.close(1_000));
  await workers.listen('127.0.0.1', 0);
  const victim = Object.values(cluster.workers ?? {}).find((w) => w?.process.pid === workers.pids[0])!;
  // What the pool hears from the worker (its 'message' event): one request in flight on web.
  victim.emit('message', { t: 'activity', apps: [['web', 1, []]] });
  assert.equal(activator.status('web')?.inFlight, 1);
  victim.process.kill('SIGKILL');
  await eventually('the exit handled', () => !workers.pids.includes(victim.process.pid!), 10_000);
  assert.equal(activator.status('web')?.inFlight, 0, 'the exit gave its request back');
  victim.emit('message', { t: 'activity', apps: [['web', 1, []]] });
  assert.equal(activator.status('web')?.inFlight, 0, 'a late report of the dead worker is not counted');
  const record: WireRecord = [Date.now(), 'web', 'GET', '/', 200, 1, 0, 2, '127.0.0.1', 0, null, null];
  victim.emit('message', { t: 'records', records: [record] });
  const series = (await registry.getSingleMetric('berth_worker_requests_total')!.get()).values;
  assert.deepEqual(series.map((v) => [v.labels.worker, v.value]), [['0', 1]], 'its last request counts in its slot');
});

test('a worker whose control falls silent (stopped, stalled) fails wakes with 503 and Retry-After instead of holding them for good', { timeout: 30_000 }, async (t) => {
  const rt = new FakeRuntime();
  rt.behave('web', { readyAfterMs: 20_000 });
  const activator = fakeActivator(rt);
  t.after(async () => {
    await activator.reconcile([], ['web']);
    activator.close();
    await rt.close();
  });
  const spec = fakeSpec('web', { startTimeout: '60s' });
  await activator.reconcile([spec]);
  // hungAfterMs leaves a worker starting on a loaded machine time to say it listens (1 s was not always enough).
  const workers = await pool(1, undefined, { pingEveryMs: 100, hungAfterMs: 2_500 }, undefined, activator);
  t.after(() => workers.close(1_000));
  const { port } = await workers.listen('127.0.0.1', 0);
  workers.feed.publishRoutes(routeEntriesOf([spec]));
  // As a SIGSTOPped control looks from the worker: the channel open, nothing coming through it (no pings, no answer to the wake).
  clearInterval((workers as unknown as { watchdog: NodeJS.Timeout }).watchdog);
  const began = performance.now();
  const asked = timedGet(port, '/session/web/', { timeoutMs: 10_000 });
  await eventually('the request held for the start', () => activator.status('web')?.waiting === 1, 5_000);
  const held = await asked;
  assert.equal(held.status, 503, held.body);
  // Its client has its answer: the place it held in the app's wait queue (queueSize) is given back, not kept until the start ends.
  await eventually('the held place given back', () => activator.status('web')?.waiting === 0, 5_000);
  assert.match(held.body, /control process has not answered/);
  assert.equal(held.headers['retry-after'], '5');
  assert.ok(performance.now() - began < 8_000, 'answered once the control had been silent for its bound, not when the 20 s start ended');
  const next = await timedGet(port, '/session/web/', { timeoutMs: 10_000 });
  assert.equal(next.status, 503, 'while the control stays silent, a wake fails at once');
});

test("a long request a worker held for the app's start is counted on its instance at the control, which a drain waits for", { timeout: 30_000 }, async (t) => {
  const rt = new FakeRuntime();
  // Ready well after the worker's first activity report (100 ms after the request began), which names no instance yet.
  rt.behave('web', { readyAfterMs: 800, quietStreamPath: '/session/web/stream' });
  const activator = fakeActivator(rt);
  t.after(async () => {
    await activator.reconcile([], ['web']);
    activator.close();
    await rt.close();
  });
  const spec = fakeSpec('web', { startTimeout: '20s' });
  await activator.reconcile([spec]);
  const workers = await pool(1, undefined, undefined, undefined, activator);
  t.after(() => workers.close(1_000));
  const { port } = await workers.listen('127.0.0.1', 0);
  workers.feed.publishRoutes(routeEntriesOf([spec]));
  const stream = request({ host: '127.0.0.1', port, path: '/session/web/stream', headers: { accept: 'text/event-stream' } });
  t.after(() => stream.destroy());
  const head = new Promise<number>((resolve, reject) => stream.once('response', (res) => resolve(res.statusCode!)).once('error', reject));
  stream.end();
  assert.equal(await head, 200, 'the stream is open, forwarded once the app was ready');
  const onInstance = () => activator.controller('web')?.slotUpstreams[0]?.inFlight;
  await eventually('the open stream counted on its instance', () => onInstance() === 1, 5_000);
  stream.destroy();
  await eventually('and its end', () => onInstance() === 0, 5_000);
});

/** Whether a TCP connection to 127.0.0.1:port is accepted. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

// Port 0 for HTTP and TLS on one host: the control picked the TLS port (bound and released it) and the
// workers bound it later, a moment in which another process could take it. Now both go to the workers as
// port 0 and the cluster binds each once. And an only worker's replacement bound port 0 anew: a port other
// than the one printed; it binds the ports of the start now.
test('HTTP and TLS both on port 0: two ports, kept by the replacement of an only worker', { timeout: 30_000 }, async (t) => {
  const workers = await pool(1);
  t.after(() => workers.close(1_000));
  const { port } = await workers.listen('127.0.0.1', 0, { host: '127.0.0.1', port: 0 });
  const tlsPort = workers.tlsAddress?.port;
  assert.ok(tlsPort && tlsPort !== port, `two ports: ${port}, ${tlsPort}`);
  assert.equal((await timedGet(port, '/')).status, 404);
  assert.ok(await accepts(tlsPort), 'the TLS port accepts');
  const [first] = workers.pids;
  process.kill(first!, 'SIGKILL');
  await eventually('a replacement', () => workers.pids.length === 1 && workers.pids[0] !== first, 10_000);
  let status: number | undefined;
  for (const deadline = performance.now() + 15_000; status === undefined && performance.now() < deadline; ) {
    status = await timedGet(port, '/', { timeoutMs: 2_000 }).then((r) => r.status, () => undefined);
    if (status === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.equal(status, 404, 'the replacement serves the port the gateway printed');
  assert.ok(await accepts(tlsPort), 'and the TLS port');
});

test('replacementPorts: the configured ports while workers hold the sockets; the bound ones for port 0 once none does', () => {
  assert.deepEqual(replacementPorts({ port: 0, tlsPort: 0 }, { port: 5000, tlsPort: 5001 }, false), { port: 0, tlsPort: 0 });
  assert.deepEqual(replacementPorts({ port: 0, tlsPort: 0 }, { port: 5000, tlsPort: 5001 }, true), { port: 5000, tlsPort: 5001 });
  assert.deepEqual(replacementPorts({ port: 8080, tlsPort: 0 }, { port: 8080, tlsPort: 5001 }, true), { port: 8080, tlsPort: 5001 });
  assert.deepEqual(replacementPorts({ port: 0 }, { port: 5000 }, true), { port: 5000 });
  assert.deepEqual(replacementPorts({ port: 0 }, undefined, true), { port: 0 });
});
