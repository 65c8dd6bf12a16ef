import { Agent, request } from 'node:http';

export interface TimedReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** Milliseconds from sending to the end of the response. */
  ms: number;
}

/** One GET to the proxy on 127.0.0.1, failing after `timeoutMs` rather than hanging. */
export function timedGet(port: number, path: string, options: { headers?: Record<string, string>; agent?: Agent | false; timeoutMs?: number } = {}): Promise<TimedReply> {
  const began = performance.now();
  const timeoutMs = options.timeoutMs ?? 20_000;
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: options.headers ?? {}, agent: options.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString(), ms: performance.now() - began });
      });
      res.on('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`GET ${path}: no complete answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}

/** `n` GETs sent at once, each on its own connection (one agent, no socket limit). */
export async function concurrentGets(port: number, path: string, n: number, options: { headers?: Record<string, string>; timeoutMs?: number } = {}): Promise<TimedReply[]> {
  const agent = new Agent({ keepAlive: false, maxSockets: Math.max(n, 1) });
  try {
    return await Promise.all(Array.from({ length: n }, () => timedGet(port, path, { ...options, agent })));
  } finally {
    agent.destroy();
  }
}
