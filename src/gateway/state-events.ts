import type { AppStatus } from '../activator/app-status.js';

/** Something that happened to an app, as the API's event stream tells it. */
export type GatewayEvent =
  | { type: 'state'; app: string; time: Date; status: AppStatus }
  | { type: 'applied'; app: string; time: Date; revision: number; action: 'created' | 'updated' }
  | { type: 'deleted'; app: string; time: Date }
  /** New requests of the app are in the history (`count` since the last such event); at most one a second per app. */
  | { type: 'request'; app: string; time: Date; count: number };

type Listener = (event: GatewayEvent) => void;

/**
 * Fan-out of gateway events to whoever listens (server-sent event streams,
 * later the dashboard and metrics). A listener that throws is dropped rather
 * than allowed to break the publisher.
 */
export class StateEvents {
  private readonly listeners = new Set<Listener>();

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(event: GatewayEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        this.listeners.delete(listener);
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }
}
