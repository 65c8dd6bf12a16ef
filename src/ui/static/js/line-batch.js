// Log lines waiting to be drawn. The logs view draws once per animation frame, and a
// browser runs no frames in a hidden tab: an app writing a flood of lines while the
// dashboard sits in the background would have them pile up without end. Only the last
// `max` lines can be shown anyway, so older ones are dropped (and counted) here.

export class LineBatch {
  constructor(max) {
    this.max = max;
    this.lines = [];
    this.dropped = 0;
  }

  push(line) {
    this.lines.push(line);
    // Trimmed at twice the bound, so each push costs O(1) on average.
    if (this.lines.length >= 2 * this.max) {
      this.dropped += this.lines.length - this.max;
      this.lines = this.lines.slice(-this.max);
    }
  }

  /** The lines to draw (at most `max`, the newest) and how many older ones were dropped since the last take. */
  take() {
    const over = Math.max(this.lines.length - this.max, 0);
    const taken = { lines: over ? this.lines.slice(over) : this.lines, dropped: this.dropped + over };
    this.lines = [];
    this.dropped = 0;
    return taken;
  }

  get size() {
    return this.lines.length;
  }
}
