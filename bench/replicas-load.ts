/**
 * The load of the replicas benchmark's blue/green phase, as a process of its
 * own (so it can be pinned away from the gateway): `clients` keep-alive
 * clients, each sending GET <path> (the test app's /echo, which names the
 * container that served it) one after another, until the parent sends "stop"
 * over IPC or `maxMs` passed, whichever comes first. Every request is recorded:
 * when it was sent and answered (epoch ms, comparable across processes), its
 * status, the serving container's hostname, or the error.
 *
 *   node dist/bench/replicas-load.js --port P --path /r/echo --clients 16 --max-ms 60000 --run-id <id>
 *
 * Messages to the parent: {type: 'ready'}, then {type: 'done', result: LoadRecord}.
 */
import { Agent } from 'node:http';
import { get as httpGet } from './lib/http.js';

export interface LoadRecord {
  clients: number;
  /** Per request, in send order per client, interleaved as they finished. */
  sentAt: number[];
  doneAt: number[];
  /** HTTP status; 0 when there was no answer. */
  status: number[];
  /** Index into `hosts`, or -1 (no answer, or not the app's JSON). */
  host: number[];
  /** For requests with status 0: the error (code or message). */
  errors: Array<{ at: number; error: string }>;
  hosts: string[];
}

const now = (): number => performance.timeOrigin + performance.now();

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? process.argv[i + 1] : fallback;
  if (v === undefined) throw new Error(`missing ${name}`);
  return v;
}

const get = (agent: Agent, port: number, path: string, timeoutMs: number) => httpGet(port, path, timeoutMs, { agent, userAgent: 'berth-replicas-bench' });

async function main(): Promise<void> {
  const port = Number(arg('--port'));
  const path = arg('--path');
  const clients = Number(arg('--clients', '16'));
  const maxMs = Number(arg('--max-ms', '60000'));
  if (!(port > 0) || !(clients >= 1 && clients <= 1024) || !(maxMs > 0 && maxMs <= 600_000)) throw new Error('bad --port, --clients or --max-ms');
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const rec: LoadRecord = { clients, sentAt: [], doneAt: [], status: [], host: [], errors: [], hosts: [] };
  const hostIndex = new Map<string, number>();
  const deadline = performance.now() + maxMs;
  let stopped = false;
  process.on('message', (m) => {
    if (m === 'stop') stopped = true;
  });
  const client = async () => {
    while (!stopped && performance.now() < deadline) {
      const sent = now();
      let status = 0;
      let host = -1;
      try {
        const reply = await get(agent, port, path, 10_000);
        status = reply.status;
        try {
          const h = (JSON.parse(reply.body) as { hostname?: unknown }).hostname;
          if (typeof h === 'string') {
            let i = hostIndex.get(h);
            if (i === undefined) {
              i = rec.hosts.length;
              rec.hosts.push(h);
              hostIndex.set(h, i);
            }
            host = i;
          }
        } catch {
          // not the app's JSON (an error page): counted by its status
        }
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        rec.errors.push({ at: now(), error: e.code ?? e.message });
      }
      rec.sentAt.push(sent);
      rec.doneAt.push(now());
      rec.status.push(status);
      rec.host.push(host);
    }
  };
  process.send?.({ type: 'ready' });
  await Promise.all(Array.from({ length: clients }, client));
  agent.destroy();
  process.send?.({ type: 'done', result: rec }, () => process.exit(0));
}

main().catch((err: unknown) => {
  process.stderr.write(`replicas-load: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
