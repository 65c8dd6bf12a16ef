/**
 * The items of several async iterables as they come, in one. Each source is read
 * one item at a time (the next only once the consumer took the last), so a slow
 * consumer holds every source back rather than buffering without bound. Ends when
 * every source has ended; the first source to throw ends it with that error.
 * Stopping early (break, return) returns every source, closing their connections.
 */
export async function* mergeEvents<T>(sources: readonly AsyncIterable<T>[]): AsyncGenerator<T> {
  const iterators = sources.map((s) => s[Symbol.asyncIterator]());
  const pending = new Map<number, Promise<{ index: number; result: IteratorResult<T> }>>();
  const pull = (index: number) => pending.set(index, iterators[index]!.next().then((result) => ({ index, result })));
  iterators.forEach((_, index) => pull(index));
  try {
    while (pending.size > 0) {
      const { index, result } = await Promise.race(pending.values());
      if (result.done) {
        pending.delete(index);
        continue;
      }
      yield result.value;
      pull(index);
    }
  } finally {
    // Not awaited: a source's return waits for its pending read (an engine stream ends at the caller's abort).
    iterators.forEach((it, index) => void (pending.has(index) ? it.return?.() : undefined)?.catch(() => undefined));
  }
}
