/** The cold-start benchmark's view of the engine: a timed trace of berth's Engine API calls, and the container events of the run. */
import type { Readable } from 'node:stream';
import { drainJsonLines } from '../src/runtime/docker/json-lines.js';
import type Docker from 'dockerode';

export interface EngineCall {
  method: string;
  path: string;
  startMs: number;
  endMs: number;
}

/**
 * Wraps a dockerode client's transport so each Engine API call is timed. Used on
 * the client berth's DockerRuntime uses, to see where a cold start spends its time.
 */
export function traceClient(docker: Docker, calls: EngineCall[]): Docker {
  const modem = (docker as unknown as { modem: { dial: (opts: { method?: string; path?: string; isStream?: boolean }, cb: (...a: unknown[]) => void) => unknown } }).modem;
  const dial = modem.dial.bind(modem);
  modem.dial = (opts, cb) => {
    if (opts.isStream) return dial(opts, cb);
    const call: EngineCall = { method: opts.method ?? 'GET', path: (opts.path ?? '').replace(/[0-9a-f]{64}/g, '<id>').replace(/\?$/, ''), startMs: performance.now(), endMs: NaN };
    return dial(opts, (...args: unknown[]) => {
      call.endMs = performance.now();
      calls.push(call);
      cb(...args);
    });
  };
  return docker;
}

/** `/containers/<x>/json` → `inspect`, `/containers/<x>/start` → `start`, … */
export function callName(c: EngineCall): string {
  const m = /^\/containers\/[^/]+\/(\w+)/.exec(c.path);
  if (m) return m[1] === 'json' ? 'inspect' : m[1]!;
  return `${c.method} ${c.path}`;
}

interface SeenEvent {
  action: string;
  app: string;
  container: string;
  phase: string;
}

/** Follows the engine's container events for this run's objects, tagging each with the phase it arrived in. */
export class EventLog {
  readonly events: SeenEvent[] = [];
  phase = 'setup';
  private stream?: Readable;

  async open(docker: Docker, runLabel: string): Promise<void> {
    const stream = (await docker.getEvents({ filters: { type: ['container'], label: [runLabel] } })) as Readable;
    this.stream = stream;
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffered = drainJsonLines<{ Action?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } }>(buffered + chunk, (msg) => {
        this.events.push({
          action: msg.Action ?? '',
          app: msg.Actor?.Attributes?.['berth.app'] ?? msg.Actor?.Attributes?.['berth.bench.role'] ?? '',
          container: msg.Actor?.ID ?? '',
          phase: this.phase,
      });
      });
    });
    stream.on('error', () => undefined);
  }

  count(action: string, phase: string, app?: string): number {
    return this.events.filter((e) => e.action === action && e.phase === phase && (app === undefined || e.app === app)).length;
  }

  close(): void {
    this.stream?.destroy();
  }
}
