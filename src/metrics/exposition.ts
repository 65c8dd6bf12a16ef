/**
 * The Prometheus text exposition (version 0.0.4) of the per-app metric families, written by
 * hand and in chunks. prom-client builds an object and a label record for every line and
 * formats them all in one go: with 10,000 apps (~31 series each, ~300k lines) a scrape held
 * the event loop for seconds, and the proxy served nothing meanwhile. Lines here are plain
 * string templates, written the way prom-client writes them (same escaping and numbers),
 * and the event loop gets a turn between chunks of apps.
 */

/** Apps (items) written between two turns of the event loop: a few milliseconds of work. */
export const ITEMS_PER_CHUNK = 250;

/** As prom-client escapes a label value: backslash, newline and double quote. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** As prom-client writes a sample value (`Nan`, `+Inf`, `-Inf`, else the JavaScript number). */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (!Number.isFinite(value)) return value < 0 ? '-Inf' : '+Inf';
  return `${value}`;
}

/** Hands the event loop back (timers, sockets, then this): what a chunk waits for. */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Metric families written one after another, each item's lines at once (so an app's
 * histogram buckets stay consistent), yielding to the event loop every `itemsPerChunk`
 * items across families. Items a family iterates may change during a yield (a Map
 * iterator sees deletions and additions); a scrape is not a snapshot in Prometheus either.
 */
export class ChunkedExposition {
  /** Finished chunks, each a flat string of whole lines, each line ending in "\n". */
  private readonly chunks: string[] = [];
  /** The lines of the chunk being written. */
  private lines: string[] = [];
  private sinceYield = 0;
  private empty = true;

  constructor(private readonly itemsPerChunk = ITEMS_PER_CHUNK) {}

  /** One family: `lines` gives an item's lines joined by "\n", or "" for none. */
  async family<T>(name: string, help: string, type: 'counter' | 'gauge' | 'histogram', items: Iterable<T>, lines: (item: T) => string): Promise<void> {
    // A blank line between families, as prom-client's registry writes them.
    if (!this.empty) this.lines.push('');
    this.empty = false;
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`);
    for (const item of items) {
      const written = lines(item);
      if (written !== '') this.lines.push(written);
      if (++this.sinceYield >= this.itemsPerChunk) {
        this.sinceYield = 0;
        // Joined now, while small: one string of the whole scrape (18-30 MB with 10,000
        // apps) took hundreds of milliseconds to build or flatten in one go, a stall of its own.
        this.chunks.push(`${this.lines.join('\n')}\n`);
        this.lines = [];
        await yieldToLoop();
      }
    }
  }

  /** The exposition in chunks, to be written one after another (none when no family was written). */
  done(): string[] {
    if (this.lines.length > 0) this.chunks.push(`${this.lines.join('\n')}\n`);
    this.lines = [];
    return this.chunks;
  }
}
