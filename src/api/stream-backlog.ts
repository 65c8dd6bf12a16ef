import type { ServerResponse } from 'node:http';

/**
 * The unsent bytes of endless answers (event streams), bounded per stream, over
 * all of them, and in time. A client that stops reading, or a slow one that never
 * catches up, would otherwise have every later event buffered for it; 512 such
 * streams (the admin listener's connection cap) at the per-stream bound alone
 * would hold half a gigabyte.
 */
export interface BacklogBounds {
  /** Unsent bytes one stream may hold. */
  perStream: number;
  /** Unsent bytes all streams together may hold; past it, a stream that adds to its backlog is dropped. */
  total: number;
  /** How long a stream may hold a backlog without its client taking it all (a `drain`). */
  stallMs: number;
}

export const DEFAULT_BACKLOG_BOUNDS: BacklogBounds = { perStream: 256 * 1024, total: 16 * 1024 * 1024, stallMs: 30_000 };

/** Whether a stream may take `bytes` more, or why it is dropped; pure. */
export function backlogVerdict(now: { unsent: number; unsentAll: number; stalledForMs: number }, bytes: number, bounds: BacklogBounds): 'write' | 'too-much' | 'all-too-much' | 'stalled' {
  if (now.unsent > 0 && now.stalledForMs > bounds.stallMs) return 'stalled';
  if (now.unsent + bytes > bounds.perStream) return 'too-much';
  // Only a stream that is behind adds to the shared backlog; one whose client keeps up never counts.
  if (now.unsent > 0 && now.unsentAll + bytes > bounds.total) return 'all-too-much';
  return 'write';
}

/**
 * The streams with a backlog now, and since when, shared by every stream of
 * one listener: a write goes out, or the stream is destroyed (its client has
 * to reconnect, and gets the current state again).
 */
export class StreamBacklogs {
  private readonly behind = new Map<ServerResponse, number>();

  constructor(
    private readonly bounds: BacklogBounds = DEFAULT_BACKLOG_BOUNDS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Writes `text` to `res` unless that breaks a bound, then `res` is destroyed instead. False when it was not written. */
  write(res: ServerResponse, text: string): boolean {
    if (res.destroyed) return false;
    const since = this.behind.get(res);
    const verdict = backlogVerdict({ unsent: res.writableLength, unsentAll: this.unsentAll(), stalledForMs: since === undefined ? 0 : this.now() - since }, Buffer.byteLength(text), this.bounds);
    if (verdict !== 'write') {
      this.forget(res);
      res.destroy();
      return false;
    }
    if (!res.write(text) && since === undefined) {
      this.behind.set(res, this.now());
      res.once('drain', () => this.behind.delete(res));
      res.once('close', () => this.behind.delete(res));
    }
    return true;
  }

  /** Unsent bytes of every stream behind now. */
  unsentAll(): number {
    let sum = 0;
    for (const res of this.behind.keys()) sum += res.writableLength;
    return sum;
  }

  /** Streams behind now, for tests. */
  get behindCount(): number {
    return this.behind.size;
  }

  private forget(res: ServerResponse): void {
    this.behind.delete(res);
  }
}
