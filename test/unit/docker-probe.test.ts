// The engine probe dials a new connection every time, over a real unix socket:
// an answer on a kept-alive connection says nothing about whether new ones get one.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EngineUnavailableError } from '../../src/errors.js';
import { resolveDockerEndpoint } from '../../src/runtime/docker/client.js';
import { DockerRuntime } from '../../src/runtime/docker/docker-runtime.js';
import { probeEngine } from '../../src/runtime/docker/probe.js';

let dir: string;
let engine: Server;
let silent: NetServer;
let connections = 0;
let status = 200;
const held = new Set<Socket>();

function listen(server: Server | NetServer, path: string): Promise<void> {
  return new Promise((resolve) => server.listen(path, resolve));
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-probe-'));
  engine = createHttpServer({ keepAlive: true }, (req, res) => {
    res.statusCode = req.url === '/_ping' ? status : 404;
    res.end('OK');
  });
  engine.on('connection', () => connections++);
  await listen(engine, join(dir, 'engine.sock'));
  // Accepts and never answers: a hung dockerd.
  silent = createNetServer((socket) => {
    held.add(socket);
    socket.on('close', () => held.delete(socket));
  });
  await listen(silent, join(dir, 'silent.sock'));
});

after(async () => {
  engine.closeAllConnections();
  for (const s of held) s.destroy();
  await new Promise((resolve) => engine.close(resolve));
  await new Promise((resolve) => silent.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

test('probe: an engine answering /_ping passes, each probe on a connection of its own', async () => {
  const runtime = new DockerRuntime({ docker: `unix://${join(dir, 'engine.sock')}` });
  const before = connections;
  await runtime.probe();
  await runtime.probe();
  await runtime.probe();
  assert.equal(connections - before, 3);
});

test('probe: an engine that accepts and never answers fails within the bound, as engine_unavailable', async () => {
  const endpoint = resolveDockerEndpoint(`unix://${join(dir, 'silent.sock')}`);
  const began = performance.now();
  const err = await probeEngine(endpoint, () => undefined, 200).then(
    () => assert.fail('a silent engine passed the probe'),
    (e: unknown) => e,
  );
  const ms = performance.now() - began;
  assert.ok(err instanceof EngineUnavailableError, String(err));
  assert.match(err.message, /does not answer \(no answer within 200 ms\)/);
  assert.equal(err.retryAfterS, 5);
  assert.ok(ms >= 190 && ms < 1_000, `failed after ${Math.round(ms)} ms`);
});

test('probe: no socket at all is engine_unavailable at once', async () => {
  const runtime = new DockerRuntime({ docker: `unix://${join(dir, 'absent.sock')}` });
  await assert.rejects(runtime.probe(), (e: unknown) => e instanceof EngineUnavailableError && /ENOENT/.test(e.message));
});

test('probe: an engine answering /_ping with an error does not pass', async () => {
  status = 500;
  try {
    const runtime = new DockerRuntime({ docker: `unix://${join(dir, 'engine.sock')}` });
    await assert.rejects(runtime.probe(), (e: unknown) => e instanceof EngineUnavailableError && /answered 500/.test(e.message));
  } finally {
    status = 200;
  }
});
