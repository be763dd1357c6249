/**
 * Benchmark results as tables: aligned monospace text for the terminal, GitHub markdown for
 * docs/benchmarks.md. Both take the same columns and rows so a command prints what it publishes.
 *
 * Numbers are formatted here (integers with thousands separators, other numbers to three
 * significant digits, see formatMeasurement); pass a string to format a cell yourself.
 */
import { formatMeasurement } from './format.js';

export { formatNumber } from './format.js';

export interface Column {
  title: string;
  /** Default: right when the column holds numbers (and at most placeholders such as "-"). */
  align?: 'left' | 'right';
}

export type Cell = string | number;

// Strings that still read as numbers ("12 ms", "1,048", "-", "n/a") keep a numeric column
// right-aligned; anything else makes it text.
const NUMBER_LIKE = /^\s*(?:[-+−]?[\d.,]+(?:\s*[a-zµ%×/]{0,4})?|[-–—]|n\/a)?\s*$/i;

interface Laid {
  titles: string[];
  cells: string[][];
  widths: number[];
  aligns: ('left' | 'right')[];
}

/** Display width in code points: good enough for the ASCII, µ and dashes benchmarks print. */
function width(text: string): number {
  return [...text].length;
}

function pad(text: string, to: number, align: 'left' | 'right'): string {
  const fill = ' '.repeat(Math.max(0, to - width(text)));
  return align === 'right' ? fill + text : text + fill;
}

function cellText(cell: Cell): string {
  const text = typeof cell === 'number' ? formatMeasurement(cell) : cell;
  // One cell, one line: a newline would break both the text grid and the markdown row.
  return text.replace(/\r?\n/g, ' ');
}

function lay(columns: Column[], rows: Cell[][], escape: (text: string) => string): Laid {
  for (const [i, row] of rows.entries()) {
    if (row.length > columns.length) {
      throw new Error(`table row ${i} has ${row.length} cells for ${columns.length} columns`);
    }
  }
  const titles = columns.map((column) => escape(column.title));
  const cells = rows.map((row) => columns.map((_, c) => escape(cellText(row[c] ?? ''))));
  const aligns = columns.map((column, c) => {
    if (column.align) return column.align;
    const raw = rows.map((row) => row[c] ?? '');
    const numeric =
      raw.some((cell) => typeof cell === 'number') &&
      raw.every((cell) => typeof cell === 'number' || NUMBER_LIKE.test(cell));
    return numeric ? 'right' : 'left';
  });
  const widths = columns.map((_, c) =>
    Math.max(width(titles[c] ?? ''), ...cells.map((row) => width(row[c] ?? ''))),
  );
  return { titles, cells, widths, aligns };
}

/** A monospace table for the terminal: every line the same width, columns two spaces apart. */
export function formatTable(columns: Column[], rows: Cell[][]): string {
  const { titles, cells, widths, aligns } = lay(columns, rows, (text) => text);
  const line = (texts: string[]) =>
    texts.map((text, c) => pad(text, widths[c] ?? 0, aligns[c] ?? 'left')).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(titles), rule, ...cells.map(line)].join('\n') + '\n';
}

/** A GitHub markdown table, cells padded so the source reads as a table too. */
export function markdownTable(columns: Column[], rows: Cell[][]): string {
  const { titles, cells, widths, aligns } = lay(columns, rows, (text) => text.replace(/\|/g, '\\|'));
  // GitHub wants at least three dashes in each separator cell.
  const w = widths.map((x) => Math.max(3, x));
  const line = (texts: string[]) =>
    '| ' + texts.map((text, c) => pad(text, w[c] ?? 3, aligns[c] ?? 'left')).join(' | ') + ' |';
  const rule =
    '| ' +
    w.map((x, c) => (aligns[c] === 'right' ? '-'.repeat(x - 1) + ':' : '-'.repeat(x))).join(' | ') +
    ' |';
  return [line(titles), rule, ...cells.map(line)].join('\n') + '\n';
}
