/**
 * Axes: where a value falls along an axis (0 at its start, 1 at its end) and which round
 * values to mark on it. Linear axes step 1-2-5 × 10ⁿ; log axes mark decades, with 2 and 5
 * in between when the range is short enough for them to fit.
 */
import { formatExact } from './format.js';

export type ScaleKind = 'linear' | 'log';

export interface Scale {
  kind: ScaleKind;
  min: number;
  max: number;
  /** 0 at min, 1 at max. */
  fraction(value: number): number;
}

export interface Tick {
  value: number;
  /** Empty for a minor tick: a fainter gridline, no label. */
  label: string;
}

export interface Axis {
  scale: Scale;
  ticks: Tick[];
}

export function makeScale(kind: ScaleKind, min: number, max: number): Scale {
  if (kind === 'log') {
    const lo = Math.log10(min);
    const span = Math.log10(max) - lo || 1;
    return { kind, min, max, fraction: (v) => (Math.log10(v) - lo) / span };
  }
  const span = max - min || 1;
  return { kind, min, max, fraction: (v) => (v - min) / span };
}

/** The 1-2-5 × 10ⁿ step nearest above `raw`. */
export function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  const f = raw / power;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * power;
}

function extent(values: number[]): [number, number] | undefined {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return undefined;
  return [Math.min(...finite), Math.max(...finite)];
}

/**
 * A linear axis over `values`, ending on round ticks. `includeZero` keeps the baseline at
 * zero, which throughput charts need to be honest; `ticks` replaces the round ones.
 */
export function linearAxis(
  values: number[],
  options: { includeZero?: boolean; ticks?: number[]; target?: number } = {},
): Axis {
  const given = options.ticks?.filter(Number.isFinite) ?? [];
  let [lo, hi] = extent([...values, ...given]) ?? [0, 1];
  if (options.includeZero) [lo, hi] = [Math.min(lo, 0), Math.max(hi, 0)];
  if (lo === hi) [lo, hi] = hi === 0 ? [0, 1] : [lo - Math.abs(lo) / 2, hi + Math.abs(hi) / 2];
  if (given.length > 0) {
    return {
      scale: makeScale('linear', lo, hi),
      ticks: given.map((v) => ({ value: v, label: formatExact(v) })),
    };
  }
  const step = niceStep((hi - lo) / (options.target ?? 5));
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  const first = Math.floor(lo / step);
  const last = Math.ceil(hi / step);
  const ticks: Tick[] = [];
  for (let i = first; i <= last; i++) {
    // toFixed undoes the float drift of i * step (0.30000000000000004).
    const value = Number((i * step).toFixed(decimals));
    ticks.push({ value, label: formatExact(value) });
  }
  return { scale: makeScale('linear', first * step, last * step), ticks };
}

/** A log axis over the positive `values` (others cannot be placed on it). */
export function logAxis(values: number[], options: { ticks?: number[] } = {}): Axis {
  const positive = (v: number) => Number.isFinite(v) && v > 0;
  const given = options.ticks?.filter(positive) ?? [];
  const [lo, hi] = extent([...values.filter(positive), ...given]) ?? [1, 10];
  if (given.length > 0) {
    const [min, max] = lo === hi ? [lo / 2, hi * 2] : [lo, hi];
    return {
      scale: makeScale('log', min, max),
      ticks: given.map((v) => ({ value: v, label: formatExact(v) })),
    };
  }
  const firstDecade = Math.floor(Math.log10(lo));
  const lastDecade = Math.max(firstDecade + 1, Math.ceil(Math.log10(hi)));
  const candidates: Tick[] = [];
  const short = lastDecade - firstDecade <= 2;
  for (let d = firstDecade; d <= lastDecade; d++) {
    for (const m of [1, 2, 3, 4, 5, 6, 7, 8, 9]) {
      const value = Number((m * 10 ** d).toPrecision(12));
      if (d === lastDecade && m > 1) break;
      // Two decades or fewer: label 1, 2 and 5; longer: label decades, 2-9 as gridlines only.
      const labelled = m === 1 || (short && (m === 2 || m === 5));
      candidates.push({ value, label: labelled ? formatExact(value) : '' });
    }
  }
  // Trim to the labelled ticks just around the data so a short range fills the axis.
  const labelled = candidates.filter((t) => t.label !== '');
  const min = [...labelled].reverse().find((t) => t.value <= lo)?.value ?? lo;
  const max = labelled.find((t) => t.value >= hi)?.value ?? hi;
  const ticks = candidates.filter((t) => t.value >= min && t.value <= max);
  return { scale: makeScale('log', min, max === min ? min * 10 : max), ticks };
}
