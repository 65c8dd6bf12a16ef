// An engine address where something answers, but not as the Engine API does: a
// proxy's HTML page with 200, a JSON body cut short, a document of the wrong shape.
// Every runtime call fails as engine_unavailable with a message that says so, and
// nothing rejects with nobody listening (which would end the gateway's process).
// An answer whose connection breaks half-way fails its call at once, not at the
// engine timeout.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineUnavailableError } from '../../src/errors.js';
import { DockerRuntime } from '../../src/runtime/docker/docker-runtime.js';
import { garbledAnswer } from '../../src/runtime/docker/engine-answers.js';

const ANSWERS: Record<string, [contentType: string, body: string]> = {
  'an HTML page': ['text/html', '<html><body><h1>502 Bad Gateway</h1></body></html>\n'],
  'JSON cut short': ['application/json', '[{"Id":"abc","State":"running","Labels":{"berth.man'],
  'an object where a list belongs': ['application/json', '{"message":"hello"}'],
  'a list of numbers': ['application/json', '[1,2,3]'],
};

describe('an engine that answers garbage', () => {
  let dir: string;
  let engine: Server;
  let answer: [string, string] = ANSWERS['an HTML page']!;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);

  before(async () => {
    process.on('unhandledRejection', onUnhandled);
    dir = await mkdtemp(join(tmpdir(), 'berth-garbled-'));
    engine = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': answer[0] });
      res.end(answer[1]);
    });
    await new Promise<void>((resolve) => engine.listen(join(dir, 'engine.sock'), resolve));
  });

  after(async () => {
    process.off('unhandledRejection', onUnhandled);
    engine.closeAllConnections();
    await new Promise((resolve) => engine.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  for (const [what, body] of Object.entries(ANSWERS)) {
    test(`${what}: list, inspect, start and stop fail as engine_unavailable, saying what came back`, async () => {
      answer = body;
      const runtime = new DockerRuntime({ docker: `unix://${join(dir, 'engine.sock')}`, engineTimeoutMs: 5_000 });
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['list', () => runtime.list()],
        ['inspect', () => runtime.inspect('abc')],
        ['start', () => runtime.start('abc')],
        ['stop', () => runtime.stop('abc')],
      ];
      for (const [name, call] of calls) {
        const err = await call().then(
          (value) => assert.fail(`${name} answered ${JSON.stringify(value)}`),
          (e: unknown) => e,
        );
        assert.ok(err instanceof EngineUnavailableError, `${name}: ${String(err)}`);
        assert.match(err.message, /Docker engine at unix:\/\/.*engine\.sock answered GET \/containers\/(abc\/)?json with /, name);
        assert.equal(err.retryAfterS, 5);
      }
      // A rejection nobody awaits surfaces after the calls: give it a turn of the loop.
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(unhandled.map(String), []);
    });
  }

  test('the HTML page is quoted, short, in the message', async () => {
    answer = ANSWERS['an HTML page']!;
    const runtime = new DockerRuntime({ docker: `unix://${join(dir, 'engine.sock')}`, engineTimeoutMs: 5_000 });
    await assert.rejects(runtime.list(), /^EngineUnavailableError: listing containers: Docker engine at \S+ answered GET \/containers\/json with a body that is not JSON \("<html><body><h1>502 Bad Gateway<\/h1><\/body><\/html>"\)$/);
  });
});

describe('an engine whose connection breaks in the middle of an answer', () => {
  let dir: string;
  let engine: NetServer;
  const sockets = new Set<Socket>();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-cut-'));
    // Pings are answered (the engine is alive, so the probe of a slow call does not cut it short);
    // every other call gets the head and the start of its body, then the connection is reset.
    engine = createNetServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      socket.once('data', (chunk) => {
        if (chunk.toString('latin1').startsWith('GET /_ping')) return void socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK');
        socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n[{"Id":"abc"');
        setImmediate(() => socket.destroy());
      });
    });
    await new Promise<void>((resolve) => engine.listen(join(dir, 'engine.sock'), resolve));
  });

  after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => engine.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  test('the call fails as engine_unavailable when the connection breaks, not when the engine timeout runs out', { timeout: 30_000 }, async () => {
    const runtime = new DockerRuntime({ docker: `unix://${join(dir, 'engine.sock')}`, engineTimeoutMs: 20_000 });
    const began = performance.now();
    const err = await runtime.list().then(
      (value) => assert.fail(`list answered ${JSON.stringify(value)}`),
      (e: unknown) => e,
    );
    const ms = performance.now() - began;
    assert.ok(err instanceof EngineUnavailableError, String(err));
    assert.match(err.message, /^listing containers: Docker engine at \S+ does not answer \(ECONNRESET\)/);
    // Well under the 20 s bound: the break is heard when it happens.
    assert.ok(ms < 10_000, `failed after ${Math.round(ms)} ms`);
  });
});

describe('garbledAnswer', () => {
  const html = Buffer.from('<html>');
  const cases: Array<[string, { path: string; method?: string; isStream?: boolean }, unknown, boolean]> = [
    ['a list', { path: '/containers/json?' }, [{ Id: 'a' }], false],
    ['an empty list', { path: '/containers/json?' }, [], false],
    ['HTML for a list', { path: '/containers/json?' }, html, true],
    ['an inspect document', { path: '/containers/abc/json' }, { State: {}, Config: {} }, false],
    ['an inspect without State', { path: '/containers/abc/json' }, { Config: {} }, true],
    ['an image inspect', { path: '/images/berth-test/app:latest/json' }, { Config: {} }, false],
    ['a create answer', { path: '/containers/create?', method: 'POST' }, { Id: 'a' }, false],
    ['HTML for a create', { path: '/containers/create?', method: 'POST' }, html, true],
    // The calls whose answers berth does not read are left alone: empty 204s, "OK".
    ['a start', { path: '/containers/abc/start?', method: 'POST' }, Buffer.alloc(0), false],
    ['a ping', { path: '/_ping' }, Buffer.from('OK'), false],
    ['a network connect', { path: '/networks/n/connect', method: 'POST' }, Buffer.from('OK'), false],
    ['a network delete', { path: '/networks/n', method: 'DELETE' }, Buffer.alloc(0), false],
    ['a stream', { path: '/events?', isStream: true }, html, false],
    // The Swarm runtime's calls go through the same client.
    ['a service list', { path: '/services?filters=x' }, [{ ID: 's' }], false],
    ['HTML for a service list', { path: '/services?filters=x' }, html, true],
    ['HTML for a task list', { path: '/tasks?' }, html, true],
    ['a task list of strings', { path: '/tasks?' }, ['a', 'b'], true],
    ['HTML for a node list', { path: '/nodes' }, html, true],
    ['a service inspect', { path: '/services/abc' }, { ID: 'abc', Spec: {} }, false],
    ['HTML for a task inspect', { path: '/tasks/abc' }, html, true],
    ['HTML for a service create', { path: '/services/create', method: 'POST' }, html, true],
    ['a service removal', { path: '/services/abc', method: 'DELETE' }, Buffer.alloc(0), false],
    ['HTML for the swarm inspect', { path: '/swarm' }, html, true],
  ];
  for (const [what, options, data, garbled] of cases) {
    test(`${what}: ${garbled ? 'garbled' : 'fine'}`, () => {
      assert.equal(garbledAnswer(options, data) !== undefined, garbled);
    });
  }
});
