import { StoreError } from '../../src/errors.js';
import type { Store } from '../../src/store/store.js';

/** Where a gateway dies: before a store call runs, or after it returned (committed) but before its caller saw the answer. */
export interface CrashPoint {
  method: keyof Store;
  when: 'before' | 'after';
  /** The nth such call (1 = the first); default 1. */
  nth?: number;
}

/**
 * A store that stands for a gateway killed at one point: from the chosen call on,
 * every call fails (a dead process writes nothing more), and `crashed` resolves so
 * the test can drop that gateway and start the next on the same file. Calls are
 * counted once `arm()` was called; `kill()` kills it at once, wherever it is.
 */
export function crashingStore(store: Store, point?: CrashPoint): { store: Store; crashed: Promise<void>; arm: () => void; kill: () => void } {
  let dead = false;
  // Calls are counted from arm() on: the gateway's own start makes some of the same calls.
  let armed = false;
  let seen = 0;
  let signal!: () => void;
  const crashed = new Promise<void>((resolve) => (signal = resolve));
  const die = (): never => {
    dead = true;
    signal();
    throw new StoreError(`gateway killed at ${point?.when} ${String(point?.method)}`);
  };
  const wrapped = new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function' || key === 'close') return value;
      return async (...args: unknown[]) => {
        if (dead) throw new StoreError('the gateway was killed');
        const hit = armed && point !== undefined && key === point.method && ++seen === (point.nth ?? 1);
        if (hit && point.when === 'before') die();
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (hit) die();
        return result;
      };
    },
  });
  const kill = () => {
    dead = true;
    signal();
  };
  return { store: wrapped, crashed, arm: () => (armed = true), kill };
}
