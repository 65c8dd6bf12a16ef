import { ClientClosedError } from '../errors.js';

/**
 * Waits for `ready` unless the waiter leaves first (`left` aborts): then it
 * rejects at once with ClientClosedError, so the caller's place in the wait
 * queue is given back the moment its client goes, not when the start ends.
 * `ready` itself goes on for whoever else waits for it (a start shared by
 * many requests is not called off because one of them left).
 */
export function unlessLeft<T>(ready: Promise<T>, left: AbortSignal | undefined): Promise<T> {
  if (left === undefined) return ready;
  if (left.aborted) return Promise.reject(new ClientClosedError());
  return new Promise<T>((resolve, reject) => {
    const leave = () => reject(new ClientClosedError());
    left.addEventListener('abort', leave, { once: true });
    ready.then(
      (value) => {
        left.removeEventListener('abort', leave);
        resolve(value);
      },
      (err: unknown) => {
        left.removeEventListener('abort', leave);
        reject(err);
      },
    );
  });
}
