import type { EventEmitter } from 'node:events';

/**
 * Reloads on SIGHUP. Listening starts before the gateway does: a SIGHUP with no
 * listener ends a Node process, and a start (store, engine, adoption) can take a
 * while. One that comes during the start is kept and runs once `started()` is called,
 * since the file may have changed after the start read it.
 */
export function reloadOnSignal(target: Pick<EventEmitter, 'on'>, reload: () => Promise<unknown>, signal = 'SIGHUP'): { started(): void } {
  let running = false;
  let pending = false;
  target.on(signal, () => {
    if (running) void reload();
    else pending = true;
  });
  return {
    started: () => {
      running = true;
      if (pending) void reload();
      pending = false;
    },
  };
}
