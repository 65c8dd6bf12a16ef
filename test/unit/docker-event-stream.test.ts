// The engine's event stream, against an engine that answers it and ends it at once
// (a proxy's page, an engine shutting down): it is reopened backing off, not four
// times a second for good, and the gateway's runtime tells it is deaf (for the log).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConfig } from '../../src/config/load-config.js';
import { runtimeFromConfig } from '../../src/runtime/runtime-from-config.js';
import { SwarmRuntime } from '../../src/runtime/swarm/swarm-runtime.js';
import type { RuntimeHooks } from '../../src/runtime/runtime.js';
import { waitFor } from '../support/wait-for.js';

describe('an event stream the engine ends as soon as it answers', () => {
  let dir: string;
  let engine: Server;
  let opened = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-evs-'));
    engine = createServer((req, res) => {
      if (req.url?.includes('/events')) opened++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(req.url?.includes('/events') ? '' : '[]');
    });
    await new Promise<void>((resolve) => engine.listen(join(dir, 'engine.sock'), resolve));
  });

  after(async () => {
    engine.closeAllConnections();
    await new Promise((resolve) => engine.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  test("is reopened after pauses that double, and the config's runtime reports each break, the repeats as such", { timeout: 20_000 }, async () => {
    const reports: Array<{ message: string; retryInMs: number; again: boolean }> = [];
    const hooks: RuntimeHooks = {
      inputUrl: () => '',
      defaultResources: () => ({}),
      secretPolicy: () => ({}),
      bindMountRoots: () => [],
      storeId: 's1',
      onEventStreamError: (err, retryInMs, again) => void reports.push({ message: err.message, retryInMs, again: again ?? false }),
    };
    const runtime = runtimeFromConfig(await buildConfig({ docker: `unix://${join(dir, 'engine.sock')}` }, dir), hooks);
    const abort = new AbortController();
    const consumed = (async () => {
      for await (const _ of runtime.events(abort.signal)) void _;
    })();
    try {
      // Two streams (containers, networks), three breaks each.
      await waitFor('six breaks reported', () => reports.length >= 6, { timeoutMs: 15_000, intervalMs: 25 });
    } finally {
      abort.abort();
      await consumed;
    }
    const first = reports.slice(0, 6);
    assert.deepEqual(first.map((r) => r.retryInMs).sort((a, b) => a - b), [250, 250, 500, 500, 1000, 1000], 'the pause doubles while the stream does not hold');
    assert.deepEqual(first.map((r) => r.again).sort(), [false, false, true, true, true, true], 'the first break of each stream is news, the next ones repeats');
    assert.match(first[0]!.message, /closed the event stream/);
    assert.ok(opened >= 6);
  });
});

describe('a swarm manager that fails every call', () => {
  let dir: string;
  let engine: Server;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-evs-'));
    engine = createServer((_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"message":"manager is down"}');
    });
    await new Promise<void>((resolve) => engine.listen(join(dir, 'engine.sock'), resolve));
  });

  after(async () => {
    engine.closeAllConnections();
    await new Promise((resolve) => engine.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  test('the task polls and the event stream report their failures, the repeats as such (the log says it once)', { timeout: 20_000 }, async () => {
    const reports: boolean[] = [];
    const runtime = new SwarmRuntime({ docker: `unix://${join(dir, 'engine.sock')}`, swarm: { taskPollMs: 50 }, onEventStreamError: (_err, _ms, again) => void reports.push(again ?? false) });
    const abort = new AbortController();
    const consumed = (async () => {
      for await (const _ of runtime.events(abort.signal)) void _;
    })();
    try {
      // Ten reports, both loops among them (the stream's are apart, 250 ms doubling).
      await waitFor('ten failures reported, of both loops', () => reports.length >= 10 && reports.filter((again) => !again).length >= 2, { timeoutMs: 15_000, intervalMs: 25 });
    } finally {
      abort.abort();
      await consumed;
    }
    // One first failure for the task polls, one for the event stream; all the others are repeats.
    assert.equal(reports.filter((again) => !again).length, 2, JSON.stringify(reports));
  });
});
