import { paint, visibleWidth, type Paint } from './colour.js';

/**
 * An aligned table the way `docker ps` and `kubectl get` print one: upper-case
 * headers, columns two spaces apart, the last column not padded (no trailing
 * blanks). Cells may carry colour; widths count only what is visible.
 */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[], p: Paint = paint()): string {
  const widths = headers.map((h, i) => Math.max(visibleWidth(h), ...rows.map((r) => visibleWidth(r[i] ?? ''))));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell + ' '.repeat(widths[i]! - visibleWidth(cell))))
      .join('  ')
      .trimEnd();
  const header = p.bold(line(headers));
  return [header, ...rows.map((r) => line(headers.map((_, i) => r[i] ?? '')))].join('\n') + '\n';
}
