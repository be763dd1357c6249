/**
 * Latency summaries from HdrHistogram (hdr-histogram-js), the field's standard recorder: values
 * in microseconds, three significant digits (every percentile within 0.1 % of the exact one),
 * any range (it resizes), constant memory however many samples. Percentiles are HdrHistogram's
 * own definition (the highest value equivalent to the sample at that rank), so figures read the
 * same as wrk2's, Gatling's or HdrHistogram's tools. Latencies are recorded from a request's
 * scheduled time in open mode (tally.ts), which is how an open loop corrects for coordinated
 * omission.
 */
import * as hdr from 'hdr-histogram-js';
import type { LatencySummary } from './job.js';

/** Points of the distribution chart: percentile 0, then toward 99.999 with the remaining
 *  distance to 100 shrinking by equal factors, so the tail gets as many points as the body. */
const DISTRIBUTION_POINTS = 60;
const DEEPEST_PERCENTILE = 99.999;
const MICROS_PER_MS = 1000;

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

/** Latencies in milliseconds, recorded into an HdrHistogram as microseconds. */
export class LatencyHistogram {
  readonly #histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60 * 60 * MICROS_PER_MS * 1000,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
  });

  record(ms: number): void {
    // Sub-microsecond answers count as 1 µs: the histogram's lowest value.
    this.#histogram.recordValue(Math.max(1, Math.round(ms * MICROS_PER_MS)));
  }

  get count(): number {
    return this.#histogram.totalCount;
  }

  /** An empty histogram summarises as zeros, so a result always has the same shape. */
  summary(): LatencySummary {
    const h = this.#histogram;
    const count = h.totalCount;
    const at = (p: number) => (count === 0 ? 0 : h.getValueAtPercentile(p) / MICROS_PER_MS);
    return {
      count,
      mean: count === 0 ? 0 : h.mean / MICROS_PER_MS,
      p50: at(50),
      p90: at(90),
      p95: at(95),
      p99: at(99),
      p999: at(99.9),
      max: count === 0 ? 0 : h.maxValue / MICROS_PER_MS,
      distribution: count === 0 ? [] : distributionPercentiles().map((p): [number, number] => [p, at(p)]),
    };
  }
}

/** The summary of latencies (ms) collected elsewhere. */
export function summarize(values: Iterable<number>): LatencySummary {
  const histogram = new LatencyHistogram();
  for (const value of values) histogram.record(value);
  return histogram.summary();
}
