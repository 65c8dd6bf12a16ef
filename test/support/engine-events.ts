import type { Readable } from 'node:stream';
import { drainJsonLines } from '../../src/runtime/docker/json-lines.js';
import { testDocker } from './docker-cleanup.js';
import { sleep, waitFor } from './wait-for.js';

export interface SeenEvent {
  action: string;
  app: string;
  id: string;
  at: number;
}

/**
 * Records the engine's container events for one test run (by its label) from the
 * moment it is created, so a test can count e.g. how many times an app's
 * container was started. The stream asks for a replay from one second before
 * creation, so nothing between `open()` and the engine subscribing is missed.
 */
export class EngineEvents {
  readonly events: SeenEvent[] = [];
  private stream?: Readable;

  private constructor(private readonly label: string) {}

  static async open(label: string): Promise<EngineEvents> {
    const recorder = new EngineEvents(label);
    await recorder.connect();
    return recorder;
  }

  private async connect(): Promise<void> {
    const since = Math.floor(Date.now() / 1000) - 1;
    const stream = (await testDocker().getEvents({ since, filters: { type: ['container'], label: [this.label] } })) as Readable;
    this.stream = stream;
    let buffered = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffered = drainJsonLines<{ Action?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } }>(buffered + chunk, (msg) => {
        this.events.push({ action: msg.Action ?? '', app: msg.Actor?.Attributes?.['berth.app'] ?? '', id: msg.Actor?.ID ?? '', at: performance.now() });
      });
    });
    stream.on('error', () => undefined);
  }

  /** How many `action` events (start, die, pause, unpause…) the app's containers had so far. */
  count(app: string, action: string): number {
    return this.events.filter((e) => e.app === app && e.action === action).length;
  }

  /**
   * The count once events have settled: waits (bounded) until at least `atLeast`
   * have arrived, then `quietMs` more for any late one, so an exact count is not
   * fooled by the event stream's lag.
   */
  async settledCount(app: string, action: string, atLeast: number, quietMs = 200): Promise<number> {
    await waitFor(`${atLeast} ${action} event(s) of ${app}`, () => this.count(app, action) >= atLeast, { timeoutMs: 5_000, intervalMs: 10 });
    await sleep(quietMs);
    return this.count(app, action);
  }

  close(): void {
    this.stream?.destroy();
  }
}
