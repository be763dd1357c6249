/**
 * Exact latency summaries: every sample is kept and sorted once. At the sizes a load job may
 * reach (200,000 requests) that costs a few milliseconds, and unlike a histogram it needs no
 * choice of range or precision.
 */
import type { LatencySummary } from './job.js';

/** Points of the distribution chart: percentile 0, then toward 99.999 with the remaining
 *  distance to 100 shrinking by equal factors, so the tail gets as many points as the body. */
const DISTRIBUTION_POINTS = 60;
const DEEPEST_PERCENTILE = 99.999;

/**
 * The nearest-rank percentile of sorted values: the smallest sample that at least p % of the
 * samples do not exceed (HdrHistogram's definition, without its bucketing).
 */
export function percentileOfSorted(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  // The epsilon absorbs binary-fraction noise: 99.9 % of 1000 is 999.0000000000001 in floats,
  // which must be rank 999, not 1000.
  const rank = Math.ceil((p / 100) * sorted.length - 1e-9);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? 0;
}

/** Percentiles from 0 to 99.999, logarithmically denser toward the tail. */
export function distributionPercentiles(points = DISTRIBUTION_POINTS): number[] {
  const decades = -Math.log10(1 - DEEPEST_PERCENTILE / 100);
  const out: number[] = [];
  for (let k = 0; k < points; k++) {
    const remaining = 10 ** ((-decades * k) / (points - 1));
    // Rounded so the last point reads 99.999, not 99.99900000000001.
    out.push(Math.round((100 - 100 * remaining) * 1e6) / 1e6);
  }
  return out;
}

/** An empty sample set summarises as zeros, so a result always has the same shape. */
export function summarize(values: number[] | Float64Array): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  const count = sorted.length;
  let sum = 0;
  for (const v of sorted) sum += v;
  const at = (p: number) => percentileOfSorted(sorted, p);
  return {
    count,
    mean: count === 0 ? 0 : sum / count,
    p50: at(50),
    p90: at(90),
    p95: at(95),
    p99: at(99),
    p999: at(99.9),
    max: count === 0 ? 0 : (sorted[count - 1] ?? 0),
    distribution: count === 0 ? [] : distributionPercentiles().map((p): [number, number] => [p, at(p)]),
  };
}

/** A growable Float64Array: closed-mode runs do not know their sample count in advance. */
export class Samples {
  #data: Float64Array;
  #length = 0;

  constructor(initialCapacity = 1024) {
    this.#data = new Float64Array(Math.max(16, initialCapacity));
  }

  push(value: number): void {
    if (this.#length === this.#data.length) {
      const bigger = new Float64Array(this.#data.length * 2);
      bigger.set(this.#data);
      this.#data = bigger;
    }
    this.#data[this.#length++] = value;
  }

  get length(): number {
    return this.#length;
  }

  /** A view of the samples pushed so far (no copy). */
  values(): Float64Array {
    return this.#data.subarray(0, this.#length);
  }
}
