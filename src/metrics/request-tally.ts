import { HistogramCells } from './labelled-histogram.js';

/** The `code_class` label values; index 0 is a request whose client went away before an answer. */
export const CODE_CLASSES = ['aborted', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;

/** Index into CODE_CLASSES of a response status (0: aborted). */
export function codeClassIndex(status: number): number {
  if (status === 0) return 0;
  const c = (status / 100) | 0;
  return c >= 1 && c <= 5 ? c : 5;
}

/**
 * One app's request counts, kept as plain numbers on the hot path and turned
 * into samples when scraped: cell `codeClass * 2 + (waited ? 1 : 0)`.
 */
export class RequestTally {
  readonly counts = new Float64Array(CODE_CLASSES.length * 2);

  constructor(readonly duration: HistogramCells) {}

  add(status: number, waited: boolean, seconds: number): void {
    this.counts[codeClassIndex(status) * 2 + (waited ? 1 : 0)]!++;
    this.duration.observe(seconds);
  }
}
