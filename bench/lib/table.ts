/** Fixed-width text tables for the benchmarks' reports. */

/** One row: the first `left` cells padded on the right, the others on the left, two spaces apart. */
export function padRow(cells: readonly string[], widths: readonly number[], left = 1): string {
  return cells.map((c, i) => (i < left ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
}

/** A table sized to its cells (counted in code points): the header row, a rule of dashes, the rows. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => [...(r[c] ?? '')].length)));
  const line = (r: string[]) => padRow(r, widths);
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}
