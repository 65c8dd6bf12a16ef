/**
 * The client side of the cold-start benchmark's burst (bench/cold-start.ts), run
 * in a worker thread so the requests are made on an event loop of their own, as
 * by an outside client, not on the gateway's. On the message "go" it sends `n`
 * GETs at once, each on its own connection, and posts back each one's outcome
 * and the time it was served, in ms since "go".
 */
import { request } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

export interface BurstClientInput {
  port: number;
  path: string;
  n: number;
  timeoutMs: number;
}

export interface BurstClientOutput {
  /** Per request: ms from "go" to the full 200 answer with the expected body, or undefined. */
  servedMs: Array<number | undefined>;
  statuses: Record<string, number>;
  errors: Record<string, number>;
  /** ms from "go" until the last request was handed to the socket layer. */
  sentMs: number;
}

function one(input: BurstClientInput, t0: number): Promise<{ status?: number; ok: boolean; ms: number; error?: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: input.port, path: input.path, agent: false, headers: { 'user-agent': 'berth-cold-bench' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        const body = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode, ok: res.statusCode === 200 && body === 'pong', ms: performance.now() - t0 });
      });
      res.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        resolve({ ok: false, ms: performance.now() - t0, error: err.code ?? err.message });
      });
    });
    const timer = setTimeout(() => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })), input.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ ok: false, ms: performance.now() - t0, error: err.code ?? err.message });
    });
    req.end();
  });
}

async function burst(input: BurstClientInput): Promise<BurstClientOutput> {
  const t0 = performance.now();
  const pending = [];
  for (let i = 0; i < input.n; i++) pending.push(one(input, t0));
  const sentMs = performance.now() - t0;
  const results = await Promise.all(pending);
  const statuses: Record<string, number> = {};
  const errors: Record<string, number> = {};
  for (const r of results) {
    if (r.status !== undefined) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    if (r.error !== undefined) errors[r.error] = (errors[r.error] ?? 0) + 1;
  }
  return { servedMs: results.map((r) => (r.ok ? r.ms : undefined)), statuses, errors, sentMs };
}

if (parentPort) {
  const port = parentPort;
  const input = workerData as BurstClientInput;
  port.once('message', (msg: unknown) => {
    if (msg !== 'go') return;
    burst(input).then(
      (out) => port.postMessage(out),
      (err: unknown) => port.postMessage({ error: String(err) }),
    );
  });
  port.postMessage('ready');
}
