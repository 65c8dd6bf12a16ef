/** Where an app is in its life; the API and dashboard show this. */
export type AppState = 'stopped' | 'starting' | 'running' | 'stopping' | 'failed';

export interface AppStatus {
  name: string;
  state: AppState;
  /** When the app entered `state`. */
  since: Date;
  /** Why the last start or the app itself failed; kept until the next successful start. */
  lastError?: string;
  lastStartMs?: number;
  /** Requests and WebSockets in flight. */
  inFlight: number;
  instance?: { id: string; address: string };
}
