import type { AppState } from './app-status.js';

/**
 * What happens to an app, as the controller reports it to the state machine.
 * - wake: something wants the app up (a request, the API, `scale.min ≥ 1`).
 * - ready: the first instance answered its readiness check.
 * - startFailed / crashLooped: a start failed, once or once too often (see CrashBackoff).
 * - engineDown: the engine did not answer; the engine's trouble, not the app's.
 * - stop: berth stops the app (idle timeout, API, delete, update of a paused app).
 * - stopped / paused: the containers are stopped / frozen.
 * - lastExited / lastCrashed: the last instance died by itself (late / soon after a start).
 * - outsideStart: a container of the app was found running that berth did not start
 *   (`docker start`, another process, or the previous gateway): it is adopted.
 * - outsidePause: adopted in the paused state, or the last instance serving was
 *   paused behind berth's back (`docker pause`): it takes connections and answers none.
 * - removed: the containers were removed.
 * - reconcileFailed: a failure outside a start (e.g. a name conflict at apply).
 */
export type LifecycleEvent =
  | 'wake'
  | 'ready'
  | 'startFailed'
  | 'crashLooped'
  | 'engineDown'
  | 'stop'
  | 'stopped'
  | 'paused'
  | 'lastExited'
  | 'lastCrashed'
  | 'outsideStart'
  | 'outsidePause'
  | 'removed'
  | 'reconcileFailed';

export const LIFECYCLE_EVENTS: readonly LifecycleEvent[] = [
  'wake', 'ready', 'startFailed', 'crashLooped', 'engineDown', 'stop', 'stopped', 'paused',
  'lastExited', 'lastCrashed', 'outsideStart', 'outsidePause', 'removed', 'reconcileFailed',
];

export const APP_STATES: readonly AppState[] = ['stopped', 'starting', 'running', 'stopping', 'paused', 'failed', 'crashloop'];

/**
 * Side effects a transition asks of the controller; each is idempotent, so a
 * controller may also run one on its own without harm.
 * - armIdle: count the idle timeout down (scale-to-zero apps only).
 * - armHealth / stopHealth: periodic health checks of the instances.
 * - releaseDeps: let the apps this one woke go idle again.
 * - stopContainers: stop what a failed start left running (a never-ready app
 *   must not keep its container up, least of all while crash-looping).
 * - armRemoval: remove long-stopped containers after `removeAfter`.
 * - fillReplicas: start the other replicas in the background.
 */
export type LifecycleAction = 'armIdle' | 'armHealth' | 'stopHealth' | 'releaseDeps' | 'stopContainers' | 'armRemoval' | 'fillReplicas';

export interface Transition {
  next: AppState;
  actions: readonly LifecycleAction[];
}

export type TransitionResult = Transition | { illegal: string };

const UP: readonly LifecycleAction[] = ['armIdle', 'armHealth', 'fillReplicas'];
const DOWN: readonly LifecycleAction[] = ['stopHealth', 'releaseDeps', 'armRemoval'];
const FAILED: readonly LifecycleAction[] = ['stopHealth', 'releaseDeps'];
// A single failure may be a slow app that will still come up (it is kept for the next try); a crash loop is not.
const LOOPING: readonly LifecycleAction[] = ['stopHealth', 'releaseDeps', 'stopContainers'];

const to = (next: AppState, actions: readonly LifecycleAction[] = []): Transition => ({ next, actions });

/** States from which a start may begin: the app is not up and nothing is in progress. */
const DOWN_STATES = ['stopped', 'paused', 'failed', 'crashloop'] as const;

/**
 * The whole table: a missing entry is an illegal transition. Reading it by
 * event: a `wake` only starts an app that is down (a running app serves; one
 * starting or stopping has the request wait for that step first); `ready`
 * and the failures only end a start; exits only matter while running; an
 * outside start is adopted from any state where berth runs nothing itself.
 */
const TABLE: Record<LifecycleEvent, Partial<Record<AppState, Transition>>> = {
  wake: Object.fromEntries(DOWN_STATES.map((s) => [s, to('starting')])),
  ready: { starting: to('running', UP) },
  startFailed: { starting: to('failed', FAILED) },
  crashLooped: { starting: to('crashloop', LOOPING) },
  engineDown: { starting: to('failed', FAILED) },
  stop: { running: to('stopping'), paused: to('stopping'), starting: to('stopping') },
  // From failed or crashloop: berth stop, the operator's answer to the failure (nothing runs but a kept never-ready container).
  stopped: { stopping: to('stopped', DOWN), paused: to('stopped', DOWN), running: to('stopped', DOWN), starting: to('stopped', DOWN), failed: to('stopped', DOWN), crashloop: to('stopped', DOWN) },
  paused: { stopping: to('paused', ['stopHealth', 'releaseDeps']) },
  lastExited: { running: to('stopped', DOWN) },
  lastCrashed: { running: to('crashloop', DOWN) },
  outsideStart: { stopped: to('running', UP), failed: to('running', UP), crashloop: to('running', UP), paused: to('running', UP) },
  outsidePause: { stopped: to('paused'), running: to('paused', ['stopHealth', 'releaseDeps']) },
  removed: Object.fromEntries(APP_STATES.map((s) => [s, to('stopped', ['stopHealth', 'releaseDeps'])])),
  // A crash loop is a failure already, with its backoff: a later failure report does not hide it.
  reconcileFailed: { stopped: to('failed'), failed: to('failed'), starting: to('failed'), crashloop: to('crashloop'), paused: to('failed') },
};

/** The state machine: where `event` takes an app in `state`, and what must be done; pure. */
export function transition(state: AppState, event: LifecycleEvent): TransitionResult {
  const found = TABLE[event][state];
  return found ?? { illegal: `${event} cannot happen while the app is ${state}` };
}

export function isIllegal(result: TransitionResult): result is { illegal: string } {
  return 'illegal' in result;
}

/** The table as text, one line per legal transition, for the docs and the closing note. */
export function describeTable(): string {
  const lines: string[] = [];
  for (const event of LIFECYCLE_EVENTS) {
    for (const state of APP_STATES) {
      const t = TABLE[event][state];
      if (t) lines.push(`${state} × ${event} → ${t.next}${t.actions.length ? ` [${t.actions.join(', ')}]` : ''}`);
    }
  }
  return lines.join('\n');
}
