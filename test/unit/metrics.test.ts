import { describe, it } from 'node:test';
import { Gauge, Registry } from 'prom-client';
import assert from 'node:assert/strict';
import type { AppState, AppStatus } from '../../src/activator/app-status.js';
import { StateEvents } from '../../src/gateway/state-events.js';
import { Metrics } from '../../src/metrics/metrics.js';
import { codeClassIndex, CODE_CLASSES } from '../../src/metrics/request-tally.js';
import { classifyTransition } from '../../src/metrics/transitions.js';
import { newRequestId, requestIdOf } from '../../src/proxy/request-id.js';
import type { IncomingMessage } from 'node:http';
import type { RequestRecord } from '../../src/store/store.js';
import { hasSample, parsePromText, promValue, type PromText } from '../support/prom-text.js';

function record(app: string, status: number, durationMs: number, waited = false): RequestRecord {
  return { timeMs: Date.now(), app, method: 'GET', path: '/', status, durationMs, bytesIn: 0, bytesOut: 0, client: '127.0.0.1', waited };
}

function status(name: string, state: AppState, extra: Partial<AppStatus> = {}): AppStatus {
  return { name, state, since: new Date(), inFlight: 0, waiting: 0, replicas: 1, readyInstances: state === 'running' ? 1 : 0, ...extra };
}

async function scrape(metrics: Metrics): Promise<PromText> {
  return parsePromText(await metrics.text());
}

describe('metrics', () => {
  it('counts requests by app, status class and cold start', async () => {
    const m = new Metrics({ processMetrics: false });
    for (let i = 0; i < 5; i++) m.requestDone(record('a', 200, 3));
    m.requestDone(record('a', 204, 1, true));
    m.requestDone(record('a', 302, 1));
    m.requestDone(record('a', 404, 1));
    m.requestDone(record('a', 503, 1, true));
    m.requestDone(record('a', 0, 1));
    m.requestDone(record('b', 500, 1));
    const t = await scrape(m);
    assert.equal(t.types.get('berth_requests_total'), 'counter');
    assert.equal(promValue(t, 'berth_requests_total', { app: 'a', code_class: '2xx', cold_start: 'false' }), 5);
    assert.equal(promValue(t, 'berth_requests_total', { app: 'a', code_class: '2xx', cold_start: 'true' }), 1);
    assert.equal(promValue(t, 'berth_requests_total', { app: 'a', code_class: '3xx' }), 1);
    assert.equal(promValue(t, 'berth_requests_total', { app: 'a', code_class: '4xx' }), 1);
    assert.equal(promValue(t, 'berth_requests_total', { app: 'a', code_class: '5xx', cold_start: 'true' }), 1);
    assert.equal(promValue(t, 'berth_requests_total', { app: 'a', code_class: 'aborted' }), 1);
    assert.equal(promValue(t, 'berth_requests_total', { app: 'a' }), 10);
    assert.equal(promValue(t, 'berth_requests_total', { app: 'b', code_class: '5xx' }), 1);
    // Counters keep counting across scrapes.
    m.requestDone(record('a', 200, 3));
    assert.equal(promValue(await scrape(m), 'berth_requests_total', { app: 'a' }), 11);
  });

  it('reports the request records the history dropped, as read at each scrape', async () => {
    let dropped = 0;
    const m = new Metrics({ processMetrics: false, historyDropped: () => dropped });
    const t0 = await scrape(m);
    assert.equal(t0.types.get('berth_history_dropped_total'), 'counter');
    assert.equal(promValue(t0, 'berth_history_dropped_total', {}), 0);
    dropped = 42;
    assert.equal(promValue(await scrape(m), 'berth_history_dropped_total', {}), 42);
  });

  it('says whether the engine answers, asked at each scrape; a ping that throws is a down engine', async () => {
    let answer: () => Promise<boolean> = async () => true;
    const m = new Metrics({ processMetrics: false, engineUp: () => answer() });
    assert.equal(promValue(await scrape(m), 'berth_engine_up'), 1);
    answer = async () => false;
    assert.equal(promValue(await scrape(m), 'berth_engine_up'), 0);
    answer = () => Promise.reject(new Error('no engine'));
    assert.equal(promValue(await scrape(m), 'berth_engine_up'), 0);
    answer = async () => true;
    assert.equal(promValue(await scrape(m), 'berth_engine_up'), 1, 'up again once it answers');
    assert.equal(hasSample(await scrape(new Metrics({ processMetrics: false })), 'berth_engine_up'), false, 'no engine to ask, no gauge');
  });

  it('gives each HTTPS certificate its expiry, and each ACME host its failed orders in a row', async () => {
    const m = new Metrics({
      processMetrics: false,
      certificates: () => [
        { names: ['a.example.com', '*.b.example.com'], source: 'file', notAfter: '2027-01-01T00:00:00.000Z' },
        { host: 'c.example.com', source: 'acme', notAfter: '2027-02-01T00:00:00.000Z', failures: 0 },
        { host: 'd.example.com', source: 'acme', failures: 3 },
      ],
    });
    const t = await scrape(m);
    assert.equal(promValue(t, 'berth_certificate_expiry_timestamp_seconds', { name: '*.b.example.com', source: 'file' }), Date.parse('2027-01-01T00:00:00Z') / 1000);
    assert.equal(promValue(t, 'berth_certificate_expiry_timestamp_seconds', { name: 'c.example.com', source: 'acme' }), Date.parse('2027-02-01T00:00:00Z') / 1000);
    assert.equal(hasSample(t, 'berth_certificate_expiry_timestamp_seconds', { name: 'd.example.com' }), false, 'no certificate, no expiry');
    assert.equal(promValue(t, 'berth_certificate_order_failures', { name: 'd.example.com' }), 3);
    assert.equal(promValue(t, 'berth_certificate_order_failures', { name: 'c.example.com' }), 0);
  });

  it("gives a host named by several certificates the expiry of the one served (the first, in any case)", async () => {
    const m = new Metrics({
      processMetrics: false,
      certificates: () => [
        { names: ['shop.example.com'], source: 'file', notAfter: '2027-01-01T00:00:00.000Z' },
        { names: ['Shop.Example.com', 'www.example.com'], source: 'file', notAfter: '2027-06-01T00:00:00.000Z' },
      ],
    });
    const t = await scrape(m);
    const expiry = t.samples.filter((s) => s.name === 'berth_certificate_expiry_timestamp_seconds');
    assert.deepEqual(
      expiry.map((s) => [s.labels.name, s.value]),
      [
        ['shop.example.com', Date.parse('2027-01-01T00:00:00Z') / 1000],
        ['www.example.com', Date.parse('2027-06-01T00:00:00Z') / 1000],
      ],
    );
  });

  it('puts request durations into cumulative histogram buckets, with sum and count', async () => {
    const m = new Metrics({ processMetrics: false });
    m.requestDone(record('a', 200, 0.5)); // 0.0005 s
    m.requestDone(record('a', 200, 7)); // 0.007 s
    m.requestDone(record('a', 200, 7));
    m.requestDone(record('a', 200, 2_000)); // 2 s
    m.requestDone(record('a', 200, 45_000)); // beyond the last bucket
    const t = await scrape(m);
    assert.equal(t.types.get('berth_request_duration_seconds'), 'histogram');
    const bucket = (le: string) => promValue(t, 'berth_request_duration_seconds_bucket', { app: 'a', le });
    assert.equal(bucket('0.001'), 1);
    assert.equal(bucket('0.005'), 1);
    assert.equal(bucket('0.01'), 3);
    assert.equal(bucket('1'), 3);
    assert.equal(bucket('2.5'), 4);
    assert.equal(bucket('30'), 4);
    assert.equal(bucket('+Inf'), 5);
    assert.equal(promValue(t, 'berth_request_duration_seconds_count', { app: 'a' }), 5);
    assert.ok(Math.abs(promValue(t, 'berth_request_duration_seconds_sum', { app: 'a' }) - 47.0145) < 1e-9);
    // Buckets never decrease along le.
    const les = t.samples.filter((s) => s.name === 'berth_request_duration_seconds_bucket' && s.labels.app === 'a').map((s) => s.value);
    assert.deepEqual([...les].sort((x, y) => x - y), les);
  });

  it('counts cold starts with their duration, failed starts, idle stops and start failures from state changes', async () => {
    const m = new Metrics({ processMetrics: false });
    const events = new StateEvents();
    m.follow(events);
    const publish = (s: AppStatus) => events.publish({ type: 'state', app: s.name, time: new Date(), status: s });
    publish(status('a', 'starting'));
    publish(status('a', 'running', { lastStartMs: 1_800 }));
    publish(status('a', 'running', { lastStartMs: 1_800, inFlight: 2 })); // not a state change
    publish(status('a', 'stopping', { reason: 'idle' }));
    publish(status('a', 'stopped', { reason: 'idle' }));
    publish(status('a', 'starting'));
    publish(status('a', 'failed', { lastError: 'boom' }));
    publish(status('a', 'starting'));
    publish(status('a', 'crashloop', { lastError: 'boom' }));
    publish(status('a', 'starting'));
    publish(status('a', 'running', { lastStartMs: 400 }));
    publish(status('a', 'stopping'));
    publish(status('a', 'stopped', { reason: 'stopped through the API' })); // not idle
    publish(status('b', 'starting'));
    publish(status('b', 'running', { lastStartMs: 250 }));
    publish(status('b', 'stopping', { reason: 'idle' }));
    publish(status('b', 'paused', { reason: 'idle' }));
    assert.equal(events.size, 1, 'the metrics listener is still subscribed');
    const t = await scrape(m);
    assert.equal(promValue(t, 'berth_cold_starts_total', { app: 'a', result: 'ok' }), 2);
    assert.equal(promValue(t, 'berth_cold_starts_total', { app: 'a', result: 'failed' }), 2);
    assert.equal(promValue(t, 'berth_cold_start_duration_seconds_count', { app: 'a' }), 2);
    assert.ok(Math.abs(promValue(t, 'berth_cold_start_duration_seconds_sum', { app: 'a' }) - 2.2) < 1e-9);
    assert.equal(promValue(t, 'berth_cold_start_duration_seconds_bucket', { app: 'a', le: '0.5' }), 1);
    assert.equal(promValue(t, 'berth_cold_start_duration_seconds_bucket', { app: 'a', le: '2' }), 2);
    assert.equal(promValue(t, 'berth_start_failures_total', { app: 'a' }), 2);
    assert.equal(promValue(t, 'berth_idle_stops_total', { app: 'a' }), 1);
    assert.equal(promValue(t, 'berth_idle_stops_total', { app: 'b' }), 1, 'an idle pause is an idle stop');
    assert.equal(promValue(t, 'berth_cold_starts_total', { app: 'b', result: 'ok' }), 1);
  });

  it("drops a deleted app's series, so apps that come and go (sessions, previews) do not pile up series", async () => {
    const m = new Metrics({ processMetrics: false });
    const events = new StateEvents();
    m.follow(events);
    const publish = (s: AppStatus) => events.publish({ type: 'state', app: s.name, time: new Date(), status: s });
    for (const app of ['gone', 'kept']) {
      publish(status(app, 'starting'));
      publish(status(app, 'running', { lastStartMs: 300 }));
      m.requestDone(record(app, 200, 3, true));
      publish(status(app, 'stopping', { reason: 'idle' }));
      publish(status(app, 'stopped', { reason: 'idle' }));
      publish(status(app, 'starting'));
      publish(status(app, 'failed', { lastError: 'boom' }));
    }
    events.publish({ type: 'deleted', app: 'gone', time: new Date() });
    const text = await m.text();
    assert.doesNotMatch(text, /app="gone"/, 'no series of the deleted app is left');
    const t = parsePromText(text);
    assert.equal(promValue(t, 'berth_requests_total', { app: 'kept' }), 1);
    assert.equal(promValue(t, 'berth_request_duration_seconds_count', { app: 'kept' }), 1);
    assert.equal(promValue(t, 'berth_cold_starts_total', { app: 'kept', result: 'ok' }), 1);
    assert.equal(promValue(t, 'berth_idle_stops_total', { app: 'kept' }), 1);
    assert.equal(promValue(t, 'berth_start_failures_total', { app: 'kept' }), 1);
    // An app of the same name made again counts from zero.
    m.requestDone(record('gone', 200, 3));
    assert.equal(promValue(await scrape(m), 'berth_requests_total', { app: 'gone' }), 1);
  });

  it("makes no series again for a deleted app from a request or state change reported after its delete", async () => {
    const declared = new Set(['gone', 'kept']);
    const m = new Metrics({ processMetrics: false, declared: (app) => declared.has(app) });
    const events = new StateEvents();
    m.follow(events);
    const publish = (s: AppStatus) => events.publish({ type: 'state', app: s.name, time: new Date(), status: s });
    publish(status('gone', 'running'));
    m.requestDone(record('gone', 200, 3));
    declared.delete('gone');
    events.publish({ type: 'deleted', app: 'gone', time: new Date() });
    // In flight at the delete: its end (and the stop it caused) arrive after the deleted event.
    m.requestDone(record('gone', 502, 3));
    publish(status('gone', 'stopped'));
    m.requestDone(record('kept', 200, 3));
    const text = await m.text();
    assert.doesNotMatch(text, /app="gone"/, 'the deleted app has no series again');
    assert.equal(promValue(parsePromText(text), 'berth_requests_total', { app: 'kept' }), 1);
    // Declared again (the same name made anew): counted from zero.
    declared.add('gone');
    m.requestDone(record('gone', 200, 3));
    assert.equal(promValue(await scrape(m), 'berth_requests_total', { app: 'gone' }), 1);
  });

  it('classifies transitions', () => {
    assert.deepEqual(classifyTransition('starting', status('a', 'running', { lastStartMs: 1500 })), { startFailure: false, idleStop: false, coldStart: { ok: true, seconds: 1.5 } });
    assert.deepEqual(classifyTransition('starting', status('a', 'crashloop')), { startFailure: true, idleStop: false, coldStart: { ok: false } });
    assert.deepEqual(classifyTransition('running', status('a', 'crashloop')), { startFailure: true, idleStop: false }, 'an early crash is a failure, not a cold start');
    assert.deepEqual(classifyTransition('stopping', status('a', 'stopped', { reason: 'idle (pause failed)' })), { startFailure: false, idleStop: true });
    assert.deepEqual(classifyTransition('stopped', status('a', 'stopped', { reason: 'idle' })), { startFailure: false, idleStop: false }, 'no change, no count');
    assert.deepEqual(classifyTransition(undefined, status('a', 'running')), { startFailure: false, idleStop: false }, 'adopted at start-up: not a cold start');
  });

  it('books container-seconds running and paused, times instances, up to the scrape', async () => {
    let now = 0;
    const current = new Map<string, AppStatus>();
    const m = new Metrics({ processMetrics: false, nowMs: () => now, statuses: () => [...current.values()] });
    const change = (s: AppStatus) => {
      current.set(s.name, s);
      m.stateChanged(s);
    };
    change(status('a', 'stopped'));
    now = 10_000; // stopped: nothing booked
    change(status('a', 'starting'));
    now = 12_000; // 2 s starting, one container
    change(status('a', 'running', { replicas: 2, readyInstances: 2, lastStartMs: 2_000 }));
    now = 22_000; // 10 s × 2 instances
    let t = await scrape(m);
    assert.equal(promValue(t, 'berth_container_seconds_total', { app: 'a', state: 'running' }), 22, 'current at scrape time');
    now = 25_000; // 3 s × 2 more
    change(status('a', 'stopping', { replicas: 2, reason: 'idle' }));
    now = 26_000; // 1 s draining × 2
    change(status('a', 'paused', { replicas: 2, reason: 'idle' }));
    now = 36_000; // 10 s paused × 2
    t = await scrape(m);
    assert.equal(promValue(t, 'berth_container_seconds_total', { app: 'a', state: 'running' }), 30);
    assert.equal(promValue(t, 'berth_container_seconds_total', { app: 'a', state: 'paused' }), 20);
    assert.equal(t.types.get('berth_container_seconds_total'), 'counter');
  });

  it('reads queue, in-flight, state and instance gauges from the statuses at scrape time', async () => {
    let statuses: AppStatus[] = [status('a', 'starting', { waiting: 7, inFlight: 7 }), status('b', 'running', { inFlight: 3, replicas: 3, readyInstances: 2 })];
    const m = new Metrics({ processMetrics: false, statuses: () => statuses });
    let t = await scrape(m);
    assert.equal(promValue(t, 'berth_queue_waiting', { app: 'a' }), 7);
    assert.equal(promValue(t, 'berth_requests_in_flight', { app: 'b' }), 3);
    assert.equal(promValue(t, 'berth_app_state', { app: 'a', state: 'starting' }), 1);
    assert.equal(promValue(t, 'berth_app_state', { app: 'a' }), 1, 'one-hot');
    assert.equal(promValue(t, 'berth_app_state', { app: 'b', state: 'running' }), 1);
    assert.equal(promValue(t, 'berth_instances', { app: 'b', state: 'ready' }), 2);
    assert.equal(promValue(t, 'berth_instances', { app: 'b', state: 'desired' }), 3);
    statuses = [status('b', 'stopped')];
    t = await scrape(m);
    assert.equal(hasSample(t, 'berth_queue_waiting', { app: 'a' }), false, 'a deleted app leaves the gauges');
    assert.equal(promValue(t, 'berth_app_state', { app: 'b', state: 'stopped' }), 1);
  });

  it('renders once for the scrapes that arrive while one is rendering, and afresh for the next', async () => {
    let statusReads = 0;
    let pings = 0;
    const waiting: Array<(up: boolean) => void> = [];
    const answer = (up: boolean) => waiting.splice(0).forEach((resolve) => resolve(up));
    const m = new Metrics({
      processMetrics: false,
      statuses: () => (statusReads++, [status('a', 'running')]),
      // A ping holds its rendering open until the test answers the pings asked so far.
      engineUp: () => (pings++, new Promise<boolean>((resolve) => waiting.push(resolve))),
    });
    const alone = m.text();
    answer(true);
    await alone;
    const readsOfOne = statusReads;
    m.requestDone(record('a', 200, 5));
    const scrapes = Array.from({ length: 5 }, () => m.text());
    answer(true);
    const texts = await Promise.all(scrapes);
    assert.equal(pings, 2, 'five concurrent scrapes ping the engine once');
    assert.equal(statusReads, 2 * readsOfOne, 'and read the statuses as one scrape does');
    for (const text of texts) assert.equal(text, texts[0]);
    assert.equal(promValue(parsePromText(texts[0]!), 'berth_requests_total', { app: 'a' }), 1);
    m.requestDone(record('a', 200, 5));
    const next = m.text();
    answer(false);
    const t = parsePromText(await next);
    assert.equal(pings, 3, 'a scrape after the shared one renders again');
    assert.equal(promValue(t, 'berth_requests_total', { app: 'a' }), 2);
    assert.equal(promValue(t, 'berth_engine_up'), 0);
  });

  it('writes the per-app families as valid exposition text, escaped and valued as prom-client writes them', async () => {
    // An app name with every character the format escapes, beside plain ones.
    const odd = 'we"ird\\app\nname';
    const apps = [odd, ...Array.from({ length: 300 }, (_, i) => `app-${i}`)];
    const statuses = apps.map((name) => status(name, 'running', { inFlight: 2, waiting: 1, replicas: 2, readyInstances: 1 }));
    let now = 0;
    const m = new Metrics({ processMetrics: false, statuses: () => statuses, nowMs: () => now });
    for (const app of apps) {
      m.stateChanged(status(app, 'starting'));
      m.stateChanged(status(app, 'running', { lastStartMs: 1500 }));
      m.stateChanged(status(app, 'stopped', { reason: 'idle' }));
      m.stateChanged(status(app, 'failed'));
      m.requestDone(record(app, 200, 3));
      m.requestDone(record(app, 0, 7, true));
    }
    now += 2000;
    const text = await m.text();
    assert.equal(text, (await m.chunks()).join(''), 'text() is the chunks joined');
    assert.ok(text.endsWith('\n') && !text.endsWith('\n\n'));
    // Strictly: every family is a HELP, a TYPE, then only its own samples, with a blank line
    // between families, and no series twice.
    const seen = new Set<string>();
    const families = text.slice(0, -1).split('\n\n');
    for (const family of families) {
      const [help, type, ...samples] = family.split('\n');
      const name = /^# HELP (\S+) ./.exec(help!)?.[1];
      assert.ok(name, `a family begins with its HELP: ${help}`);
      assert.match(type!, new RegExp(`^# TYPE ${name} (counter|gauge|histogram)$`));
      assert.ok(!seen.has(name), `${name} once`);
      seen.add(name);
      const parsed = parsePromText(samples.join('\n'));
      const series = new Set<string>();
      for (const [i, s] of parsed.samples.entries()) {
        assert.ok(s.name === name || (type!.endsWith('histogram') && [`${name}_bucket`, `${name}_sum`, `${name}_count`].includes(s.name)), `${samples[i]} in ${name}`);
        const key = `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`;
        assert.ok(!series.has(key), `one series once: ${samples[i]}`);
        series.add(key);
      }
    }
    const t = parsePromText(text);
    for (const family of ['berth_requests_total', 'berth_request_duration_seconds_count', 'berth_cold_starts_total', 'berth_cold_start_duration_seconds_count', 'berth_idle_stops_total', 'berth_start_failures_total', 'berth_queue_waiting', 'berth_requests_in_flight', 'berth_app_state', 'berth_instances']) {
      assert.equal(new Set(t.samples.filter((s) => s.name === family).map((s) => s.labels.app)).size, apps.length, `${family}: every app`);
    }
    // The odd name comes back as it was, with its values.
    assert.equal(promValue(t, 'berth_requests_total', { app: odd }), 2);
    assert.equal(promValue(t, 'berth_requests_total', { app: odd, code_class: 'aborted', cold_start: 'true' }), 1);
    assert.equal(promValue(t, 'berth_request_duration_seconds_bucket', { app: odd, le: '0.005' }), 1);
    assert.equal(promValue(t, 'berth_request_duration_seconds_bucket', { app: odd, le: '+Inf' }), 2);
    assert.equal(promValue(t, 'berth_request_duration_seconds_sum', { app: odd }), 0.01);
    assert.equal(promValue(t, 'berth_cold_start_duration_seconds_bucket', { app: odd, le: '2' }), 1);
    assert.equal(promValue(t, 'berth_cold_start_duration_seconds_bucket', { app: odd, le: '1' }), 0);
    assert.equal(promValue(t, 'berth_cold_starts_total', { app: odd, result: 'ok' }), 1);
    assert.equal(promValue(t, 'berth_idle_stops_total', { app: odd }), 1);
    assert.equal(promValue(t, 'berth_start_failures_total', { app: odd }), 1);
    assert.equal(promValue(t, 'berth_app_state', { app: odd, state: 'running' }), 1);
    assert.equal(promValue(t, 'berth_app_state', { app: odd }), 1);
    assert.equal(promValue(t, 'berth_instances', { app: odd, state: 'desired' }), 2);
    assert.ok(hasSample(t, 'berth_container_seconds_total', { app: odd, state: 'paused' }));
    // Byte for byte as prom-client writes the same series (label escaping, numbers, HELP and TYPE).
    const reference = new Registry();
    const gauge = new Gauge({ name: 'berth_queue_waiting', help: 'Requests waiting for an app to start.', labelNames: ['app'], registers: [reference] });
    for (const app of apps) gauge.set({ app }, 1);
    const ours = families.find((f) => f.startsWith('# HELP berth_queue_waiting '));
    assert.equal(`${ours}\n`, await reference.metrics());
  });

  it('yields to the event loop between chunks of apps while it renders', async () => {
    const statuses = Array.from({ length: 300 }, (_, i) => status(`app-${i}`, 'running'));
    const m = new Metrics({ processMetrics: false, statuses: () => statuses });
    for (const s of statuses) m.requestDone(record(s.name, 200, 3));
    // Counts the turns of the event loop until the rendering is done: without a yield it
    // would finish in one go (promises only), before the first of them.
    let done = false;
    let turns = 0;
    const tick = (): void => {
      if (done) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    const chunks = await m.chunks();
    done = true;
    assert.ok(turns >= 2, `the event loop turned ${turns} times during the rendering`);
    assert.ok(chunks.length >= 2, 'in several chunks');
    assert.equal(promValue(parsePromText(chunks.join('')), 'berth_app_state', { state: 'running' }), 300);
  });

  it('exports process metrics with the berth_ prefix and build info', async () => {
    const m = new Metrics();
    const t = await scrape(m);
    assert.ok(hasSample(t, 'berth_process_cpu_user_seconds_total'));
    assert.ok(hasSample(t, 'berth_nodejs_heap_size_used_bytes'));
    assert.equal(promValue(t, 'berth_build_info'), 1);
    assert.match(m.contentType, /^text\/plain; version=0\.0\.4/);
  });

  it('code classes', () => {
    assert.equal(CODE_CLASSES[codeClassIndex(0)], 'aborted');
    assert.equal(CODE_CLASSES[codeClassIndex(101)], '1xx');
    assert.equal(CODE_CLASSES[codeClassIndex(299)], '2xx');
    assert.equal(CODE_CLASSES[codeClassIndex(404)], '4xx');
    assert.equal(CODE_CLASSES[codeClassIndex(599)], '5xx');
  });
});

describe('request ids', () => {
  const req = (id?: string | string[]) => ({ headers: id === undefined ? {} : { 'x-request-id': id } }) as unknown as IncomingMessage;

  it('keeps a sane client id and replaces anything else', () => {
    assert.equal(requestIdOf(req('abc-123_XYZ.4')), 'abc-123_XYZ.4');
    assert.equal(requestIdOf(req('a'.repeat(128))), 'a'.repeat(128));
    for (const bad of ['a'.repeat(129), 'has space', 'quote"', 'a,b', '', 'ünï', 'x\ty']) {
      const id = requestIdOf(req(bad));
      assert.notEqual(id, bad);
      assert.match(id, /^[A-Za-z0-9_-]{8}-[0-9a-z]+$/);
    }
    assert.match(requestIdOf(req()), /^[A-Za-z0-9_-]{8}-[0-9a-z]+$/);
  });

  it('generates distinct ids', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newRequestId()));
    assert.equal(ids.size, 10_000);
  });
});
