// An app that floods its output: reading its logs must stream from the engine, never
// hold the whole log in the gateway. A fake engine on a unix socket serves an endless,
// lazily made log body, so a reader that waits for the end of it never gets a byte.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerRuntime } from '../../src/runtime/docker/docker-runtime.js';

/** One frame of the engine's multiplexed stream: 1 for stdout. */
function frame(text: string): Buffer {
  const payload = Buffer.from(text);
  const header = Buffer.alloc(8);
  header[0] = 1;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

const LINE = frame(`${'x'.repeat(1023)}\n`);
/** More than the gateway should ever hold at once for one reader. */
const BODY_LIMIT_BYTES = 64 * 1024 * 1024;

let dir: string;
let engine: Server;
let sentBytes = 0;
const logQueries: string[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-logs-'));
  engine = createServer((req, res) => {
    const path = (req.url ?? '').replace(/^\/v[\d.]+/, '');
    if (path === '/_ping') return void res.end('OK');
    if (path.startsWith('/containers/c1/json')) {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ Id: 'c1', Name: '/berth-flood-0', Config: { Tty: false, Labels: { 'berth.managed': 'true', 'berth.app': 'flood' } }, State: { Status: 'running' } }));
      return;
    }
    if (path.startsWith('/containers/c1/logs')) {
      logQueries.push(path);
      res.writeHead(200, { 'content-type': 'application/vnd.docker.multiplexed-stream' });
      // Written only as fast as the reader takes it, up to a bound a buffering reader would wait out.
      const pump = (): void => {
        while (sentBytes < BODY_LIMIT_BYTES) {
          sentBytes += LINE.length;
          if (!res.write(LINE)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
      return;
    }
    res.statusCode = 404;
    res.end('{"message":"not here"}');
  });
  await new Promise<void>((resolve) => engine.listen(join(dir, 'engine.sock'), resolve));
});

after(async () => {
  engine.closeAllConnections();
  await new Promise((resolve) => engine.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

test('logs without follow stream from the engine: the first lines come before the engine has sent the rest', async () => {
  const runtime = new DockerRuntime({ docker: `unix://${join(dir, 'engine.sock')}` });
  sentBytes = 0;
  const deadline = AbortSignal.timeout(20_000);
  const stream = await Promise.race([
    runtime.logs('c1', { tail: 1_000_000 }),
    new Promise<never>((_, reject) => deadline.addEventListener('abort', () => reject(new Error('the logs call waited for the whole log')))),
  ]);
  let first = '';
  for await (const chunk of stream) {
    first = String(chunk);
    break;
  }
  stream.destroy();
  assert.match(first, /^x+/);
  assert.ok(sentBytes < BODY_LIMIT_BYTES / 4, `the engine had sent ${sentBytes} bytes before the first line was read`);
  // The engine was asked for what the caller asked: no follow, the tail, both streams.
  const query = new URLSearchParams(logQueries.at(-1)!.split('?')[1]);
  assert.equal(query.get('follow'), 'false');
  assert.equal(query.get('tail'), '1000000');
  assert.equal(query.get('stdout'), 'true');
  assert.equal(query.get('stderr'), 'true');
});
