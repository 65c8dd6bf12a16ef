/**
 * Where an app is in its life; the API and dashboard show this.
 * - stopped: no instance runs; the next request starts one.
 * - starting: an instance is being started; requests wait for it.
 * - running: ready and serving.
 * - stopping: being stopped; requests arriving now wait, then wake it again.
 * - paused: frozen in memory after idling; the next request unpauses it.
 * - failed: the last start failed (see lastError); the next request tries again. Kept
 *   across gateway restarts (kept-failure.ts), until the app starts again.
 * - crashloop: it failed repeatedly; requests get 503 until `retryAt`.
 */
export type AppState = 'stopped' | 'starting' | 'running' | 'stopping' | 'paused' | 'failed' | 'crashloop';

export interface AppStatus {
  name: string;
  state: AppState;
  /** When the app entered `state`. */
  since: Date;
  /** When the last request or WebSocket ended (or began, while one is open). */
  lastActivity?: Date;
  /** When the app will be stopped or paused for idleness, if nothing happens until then. */
  idleAt?: Date;
  /** The idle timeout in force (the spec's, else the gateway's default); absent when the app never idles (scale.min ≥ 1). */
  idleTimeoutMs?: number;
  /** In crashloop: when the next start will be tried. */
  retryAt?: Date;
  /**
   * Why the app is in `state`: berth's choice (`idle`, or `idle (pause failed)`, for an idle stop or pause,
   * `stopped through the API`, …), or what happened to it (`its container exited by itself with code 0`,
   * `its container was paused outside berth`; after a gateway restart, what the engine still knows of its
   * container's end: see adoptedExit); absent after a start, or when lastError says it.
   */
  reason?: string;
  /** Why the last start or the app itself failed; kept until the next successful start. */
  lastError?: string;
  /**
   * When the last start failed because its container died: the end of what it wrote
   * (`its last output: …`), often the real why. Beside lastError, not in it: lastError
   * is also told to the app's clients (a 502, the waiting page), and this is the app's
   * own output, for the admin API only. Kept as long as lastError.
   */
  lastOutput?: string;
  /**
   * Why the gateway's policy in force refuses this app: an app applied through the API under an earlier,
   * wider policy, which a reload narrowed. It stays declared and what runs of it serves on until it stops
   * (as a config app a reload's policy would refuse keeps running: that reload is refused); no new
   * container is made for it. Absent when the policy allows it.
   */
  policyRefused?: string;
  lastStartMs?: number;
  /** Requests and WebSockets in flight. */
  inFlight: number;
  /** Requests waiting for a start. */
  waiting: number;
  /** Instances that run while the app is up. */
  replicas: number;
  /** Instances in rotation now. */
  readyInstances: number;
  instance?: { id: string; address?: string };
}

/** States of an app with nothing up: starting it adds one to the apps the gateway runs. */
export const APP_DOWN: ReadonlySet<AppState> = new Set(['stopped', 'failed', 'crashloop']);

/** States in which no instance serves (a frozen app too), so a running container means someone else started it. */
export function isDown(state: AppState): boolean {
  return state === 'stopped' || state === 'failed' || state === 'crashloop' || state === 'paused';
}
