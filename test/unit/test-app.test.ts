// The test app (test/images/app/app.js) is the backend most integration tests talk to;
// this checks its contract by running it on the host with the same node, no Docker.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';

// dist/test/unit/ -> the repository root.
const APP_JS = fileURLToPath(new URL('../../../test/images/app/app.js', import.meta.url));

interface RunningApp {
  child: ChildProcess;
  base: string;
}

async function startApp(env: Record<string, string> = {}): Promise<RunningApp> {
  const child = spawn(process.execPath, [APP_JS], { env: { PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on :(\d+)/.exec(out);
      if (m?.[1]) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`test app exited with ${code} before listening: ${out}`)));
  });
  return { child, base: `http://127.0.0.1:${port}` };
}

async function exitCode(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

describe('test app', () => {
  let app: RunningApp;
  before(async () => {
    app = await startApp({ GREETING: 'hi' });
  });
  after(() => {
    app.child.kill('SIGTERM');
  });

  it('answers /ping, /healthz, /status/N and /env', async () => {
    assert.equal(await (await fetch(`${app.base}/ping`)).text(), 'pong');
    assert.equal((await fetch(`${app.base}/healthz`)).status, 200);
    assert.equal((await fetch(`${app.base}/status/418`)).status, 418);
    assert.equal((await fetch(`${app.base}/status/204`)).status, 204);
    const env = (await (await fetch(`${app.base}/env`)).json()) as Record<string, string>;
    assert.equal(env.GREETING, 'hi');
  });

  it('reads a file back with /file, with its mode; 404 when missing', async () => {
    const reply = await fetch(`${app.base}/file?path=${encodeURIComponent(APP_JS)}`);
    assert.equal(reply.status, 200);
    assert.match(reply.headers.get('x-file-mode') ?? '', /^[0-7]{3,4}$/);
    assert.match(await reply.text(), /berth's test app/);
    assert.equal((await fetch(`${app.base}/file?path=/no/such/file`)).status, 404);
  });

  it('echoes method, path, query, headers and body; unmatched paths echo too', async () => {
    const reply = await fetch(`${app.base}/echo?a=1&a=2&b=x`, { method: 'POST', body: 'payload', headers: { 'x-test': 'yes' } });
    const echo = (await reply.json()) as Record<string, unknown>;
    assert.equal(echo.method, 'POST');
    assert.equal(echo.path, '/echo');
    assert.deepEqual(echo.query, { a: ['1', '2'], b: 'x' });
    assert.equal((echo.headers as Record<string, string>)['x-test'], 'yes');
    assert.equal(echo.body, 'payload');
    assert.equal(typeof echo.hostname, 'string');
    const other = (await (await fetch(`${app.base}/some/where`)).json()) as Record<string, unknown>;
    assert.equal(other.path, '/some/where');
  });

  it('sleeps on /slow, streams on /stream and counts /upload', async () => {
    const started = Date.now();
    assert.deepEqual(await (await fetch(`${app.base}/slow?ms=150`)).json(), { slept: 150 });
    assert.ok(Date.now() - started >= 140);
    const stream = await fetch(`${app.base}/stream?chunks=3&ms=10`);
    assert.equal(stream.headers.get('transfer-encoding'), 'chunked');
    assert.equal(await stream.text(), 'chunk 0\nchunk 1\nchunk 2\n');
    const up = (await (await fetch(`${app.base}/upload`, { method: 'POST', body: randomBytes(300_000) })).json()) as { bytes: number };
    assert.equal(up.bytes, 300_000);
  });

  it('echoes WebSocket text, binary, 1 MiB, fragmented messages and pings', async () => {
    const ws = new WebSocket(`${app.base.replace('http', 'ws')}/ws`, ['chat']);
    await once(ws, 'open');
    assert.equal(ws.protocol, 'chat');
    const next = async (): Promise<{ data: Buffer; isBinary: boolean }> => {
      const [data, isBinary] = (await once(ws, 'message')) as [Buffer, boolean];
      return { data, isBinary };
    };
    ws.send('ahoy');
    let m = await next();
    assert.equal(m.isBinary, false);
    assert.equal(m.data.toString(), 'ahoy');
    const big = randomBytes(1 << 20);
    ws.send(big);
    m = await next();
    assert.ok(m.isBinary && big.equals(m.data));
    const pong = once(ws, 'pong');
    const whole = next();
    ws.send('a', { fin: false });
    ws.ping('p');
    ws.send('b', { fin: false });
    ws.send('c', { fin: true });
    assert.equal(String((await pong)[0]), 'p');
    assert.equal((await whole).data.toString(), 'abc');
    ws.close(4001);
    const [code] = (await once(ws, 'close')) as [number];
    assert.equal(code, 4001);
  });
});

describe('test app switches', () => {
  it('READY_DELAY_MS: /healthz is 503 until the delay has passed, other paths answer', async () => {
    const app = await startApp({ READY_DELAY_MS: '300' });
    try {
      assert.equal((await fetch(`${app.base}/healthz`)).status, 503);
      assert.equal((await fetch(`${app.base}/ping`)).status, 200);
      await new Promise((r) => setTimeout(r, 350));
      assert.equal((await fetch(`${app.base}/healthz`)).status, 200);
    } finally {
      app.child.kill('SIGTERM');
    }
  });

  it('EXIT_ON_START exits with its code', async () => {
    const child = spawn(process.execPath, [APP_JS], { env: { EXIT_ON_START: '7' }, stdio: 'ignore' });
    assert.equal(await exitCode(child), 7);
  });

  it('EXIT_ON_REQUEST=1 answers the first request (not /healthz), then exits 3', async () => {
    const app = await startApp({ EXIT_ON_REQUEST: '1' });
    assert.equal((await fetch(`${app.base}/healthz`)).status, 200);
    assert.equal(await (await fetch(`${app.base}/ping`)).text(), 'pong');
    assert.equal(await exitCode(app.child), 3);
  });

  it('GET /exit?code=N answers, then exits with N', async () => {
    const app = await startApp();
    assert.deepEqual(await (await fetch(`${app.base}/exit?code=42`)).json(), { exiting: 42 });
    assert.equal(await exitCode(app.child), 42);
  });

  it('SIGTERM exits at once', async () => {
    const app = await startApp();
    app.child.kill('SIGTERM');
    assert.equal(await exitCode(app.child), 0);
  });
});
