/**
 * Numbers as people read them in a report: fixed decimals and thousands separators, the same
 * on every machine (en-US grouping, never the locale of whoever runs the benchmark).
 */

const formats = new Map<number, Intl.NumberFormat>();

function formatFor(digits: number): Intl.NumberFormat {
  let format = formats.get(digits);
  if (!format) {
    format = new Intl.NumberFormat('en-US', {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
      useGrouping: true,
    });
    formats.set(digits, format);
  }
  return format;
}

/** `formatNumber(12345.6)` is `'12,346'`, `formatNumber(1.234, 2)` is `'1.23'`. */
export function formatNumber(n: number, digits = 0): string {
  if (!Number.isInteger(digits) || digits < 0 || digits > 20) {
    throw new RangeError(`formatNumber: digits must be an integer 0..20, got ${digits}`);
  }
  if (Number.isNaN(n)) return 'NaN';
  if (!Number.isFinite(n)) return n > 0 ? '∞' : '-∞';
  const text = formatFor(digits).format(n);
  // A tiny negative number rounds to "-0" or "-0.00": a sign on zero only confuses.
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}

/**
 * Enough decimals for three significant digits, at most six: 12,346 / 123 / 12.3 / 1.23 /
 * 0.0123. For measurements whose last digits are noise anyway.
 */
export function formatMeasurement(n: number): string {
  if (Number.isInteger(n) || !Number.isFinite(n) || n === 0) return formatNumber(n);
  const digits = Math.min(6, Math.max(0, 2 - Math.floor(Math.log10(Math.abs(n)))));
  return formatNumber(n, digits);
}

/** The fewest decimals (up to six) that show `n` exactly: tick values such as 0.5 or 2.5. */
export function formatExact(n: number): string {
  for (let digits = 0; digits < 6; digits++) {
    if (Math.abs(Number(n.toFixed(digits)) - n) <= 1e-9 * Math.max(1, Math.abs(n))) {
      return formatNumber(n, digits);
    }
  }
  return formatNumber(n, 6);
}
