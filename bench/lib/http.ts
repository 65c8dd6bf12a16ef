/** The benchmarks' own HTTP GETs to 127.0.0.1. */
import { request, type Agent, type IncomingMessage } from 'node:http';

export interface Reply {
  status: number;
  body: string;
}

/**
 * One GET (on a fresh connection unless an agent is given); rejects on error, or
 * with code TIMEOUT when no full answer came within `timeoutMs`.
 */
export function get(port: number, path: string, timeoutMs: number, o: { agent?: Agent | false; userAgent: string }): Promise<Reply> {
  return new Promise((resolvePromise, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: o.agent ?? false, headers: { 'user-agent': o.userAgent } }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
      });
      res.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: 'TIMEOUT' })), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}

/** GET on a fresh connection through fetch; the status and body, or a rejection after `timeoutMs`. */
export async function fetchGet(port: number, path: string, timeoutMs = 5000): Promise<Reply> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, body: await res.text() };
}
