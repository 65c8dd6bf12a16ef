/**
 * The real `berth serve` the app-count benchmark drives: a child process on a temp
 * data dir, its admin API, and its memory read through /proc after a full GC (asked
 * through the inspector, so the gateway itself needs no test hook).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const BERTH_BIN = fileURLToPath(new URL('../../bin/berth.js', import.meta.url));

export interface Timed<T> {
  ms: number;
  status: number;
  bytes: number;
  body: T;
}

export class BenchGateway {
  readonly token = `bench-${Math.random().toString(36).slice(2)}`;
  proxyPort = 0;
  adminPort = 0;
  private child?: ChildProcess;
  private output = '';

  constructor(
    readonly dir: string,
    private readonly inspectPort: number,
  ) {}

  get pid(): number {
    return this.child?.pid ?? 0;
  }

  async start(config: string): Promise<void> {
    await writeFile(join(this.dir, 'berth.yaml'), config);
    const child = spawn(process.execPath, [`--inspect=127.0.0.1:${this.inspectPort}`, BERTH_BIN, 'serve', '--config', join(this.dir, 'berth.yaml'), '--no-watch'], {
      cwd: this.dir,
      env: { ...process.env, BERTH_ADMIN_TOKEN: this.token, BERTH_LOG_LEVEL: process.env.BERTH_LOG_LEVEL ?? 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const keep = (c: Buffer) => (this.output = (this.output + c.toString()).slice(-64 * 1024));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`berth serve did not print its ports within 60 s:\n${this.tail()}`)), 60_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`berth serve exited (code ${code}):\n${this.tail()}`));
      });
      const onData = () => {
        const proxy = /berth is serving on http:\/\/127\.0\.0\.1:(\d+)/.exec(this.output);
        const admin = /admin API on http:\/\/127\.0\.0\.1:(\d+)/.exec(this.output);
        if (!proxy || !admin) return;
        this.proxyPort = Number(proxy[1]);
        this.adminPort = Number(admin[1]);
        child.stderr!.off('data', onData);
        clearTimeout(timer);
        resolve();
      };
      child.stderr!.on('data', onData);
    });
  }

  tail(): string {
    return this.output.trim().split('\n').slice(-15).join('\n');
  }

  /** One admin API call, timed to the last byte of the answer. */
  async call<T>(method: string, path: string, body?: unknown): Promise<Timed<T>> {
    const began = performance.now();
    const res = await fetch(`http://127.0.0.1:${this.adminPort}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(600_000),
    });
    const text = await res.text();
    const ms = performance.now() - began;
    if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 500)}`);
    return { ms, status: res.status, bytes: Buffer.byteLength(text), body: JSON.parse(text) as T };
  }

  /** GET through the proxy until the app answers 200 (a cold start when it is stopped); ms to that answer. */
  async proxied(path: string): Promise<number> {
    const began = performance.now();
    const res = await fetch(`http://127.0.0.1:${this.proxyPort}${path}`, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(120_000) });
    const body = await res.text();
    if (res.status !== 200) throw new Error(`GET ${path} through the proxy: ${res.status} ${body.slice(0, 300)}`);
    return performance.now() - began;
  }

  /** VmRSS (KB) after a full garbage collection, and the V8 heap in use (bytes). */
  async memoryAfterGc(): Promise<{ rssKb: number; heapUsed: number }> {
    const list = (await (await fetch(`http://127.0.0.1:${this.inspectPort}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
    const ws = new WebSocket(list[0]!.webSocketDebuggerUrl);
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    let id = 0;
    const send = (method: string, params: object = {}) =>
      new Promise<{ result?: { result?: { value?: unknown } } }>((resolve) => {
        const mine = ++id;
        const onMessage = (data: WebSocket.RawData) => {
          const msg = JSON.parse(data.toString()) as { id?: number };
          if (msg.id !== mine) return;
          ws.off('message', onMessage);
          resolve(msg as { result?: { result?: { value?: unknown } } });
        };
        ws.on('message', onMessage);
        ws.send(JSON.stringify({ id: mine, method, params }));
      });
    try {
      for (let i = 0; i < 3; i++) await send('HeapProfiler.collectGarbage');
      await sleep(200);
      const heap = await send('Runtime.evaluate', { expression: 'process.memoryUsage().heapUsed', returnByValue: true });
      return { rssKb: vmRssKb(this.pid), heapUsed: Number(heap.result?.result?.value ?? NaN) };
    } finally {
      ws.close();
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    if (!(await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]))) {
      child.kill('SIGKILL');
      await exited;
    }
  }
}

/** VmRSS of a process, in KB (0 when it is gone). */
export function vmRssKb(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}
