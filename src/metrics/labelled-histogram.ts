import type { Metric } from 'prom-client';

/** A sample as prom-client's registry formats it. */
interface Sample {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/** One label set's observations: counts per bucket (not cumulative; the last cell is +Inf), sum and count. */
export class HistogramCells {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Plain arithmetic, no allocation: cheap enough for every proxied request. */
  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

/**
 * A histogram with one label whose hot path is a bucket increment on cached
 * cells. prom-client's own Histogram builds and hashes a label string and
 * validates the labels on every `observe`, even through a `labels(...)` child,
 * which costs about a microsecond per proxied request; this one does that work
 * once per scrape instead. It has the shape prom-client's registry reads
 * (`name`, `help`, `type`, `aggregator`, `get`, `reset`), so it is exported
 * with the other metrics in the registry's text format.
 */
export class LabelledHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly cells = new Map<string, HistogramCells>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly label: string,
    private readonly bounds: readonly number[],
  ) {}

  /** The cells of one label value, made on first use; keep them to observe without a lookup. */
  child(value: string): HistogramCells {
    let cells = this.cells.get(value);
    if (!cells) {
      cells = new HistogramCells(this.bounds);
      this.cells.set(value, cells);
    }
    return cells;
  }

  delete(value: string): void {
    this.cells.delete(value);
  }

  reset(): void {
    this.cells.clear();
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Sample[] }> {
    const values: Sample[] = [];
    const bucket = `${this.name}_bucket`;
    for (const [value, cells] of this.cells) {
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += cells.counts[i]!;
        const le = i < this.bounds.length ? this.bounds[i]! : '+Inf';
        values.push({ metricName: bucket, labels: { [this.label]: value, le }, value: cumulative });
      }
      values.push({ metricName: `${this.name}_sum`, labels: { [this.label]: value }, value: cells.sum });
      values.push({ metricName: `${this.name}_count`, labels: { [this.label]: value }, value: cells.count });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** For `registry.registerMetric`, whose type names only prom-client's own classes. */
  asMetric(): Metric {
    return this as unknown as Metric;
  }
}
