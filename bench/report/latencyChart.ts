/**
 * Latency by percentile, drawn the way HdrHistogram's plotter does: the x axis is 1/(1-p) on
 * a log scale, so 90%, 99%, 99.9% and 99.99% are equally far apart and the tail, where the
 * designs differ, gets as much room as the median.
 */
import { formatExact } from './format.js';
import { drawPlot } from './plot.js';
import { linearAxis, logAxis, makeScale, type Tick } from './scale.js';

export interface LatencyChartSpec {
  title: string;
  series: {
    name: string;
    /** [percentile 0..99.999, latency in ms], as HdrHistogram lists them; 100 (the max) is drawn at the right end. */
    distribution: [number, number][];
  }[];
  width?: number;
  height?: number;
}

/** A y axis spanning more than this ratio goes log, or the median would sit flat on zero. */
const LOG_Y_RATIO = 100;
/** Up to this many points per series get a marker each; denser curves get them at the labelled percentiles. */
const MARK_EVERY_POINT = 12;

/** 1/(1-p); Infinity for the maximum (p = 100), which is drawn at the axis' right end. */
function toX(percentile: number): number {
  const p = Math.max(percentile, 0);
  return p >= 100 ? Infinity : 1 / (1 - p / 100);
}

function percentileLabel(decade: number): string {
  // 10^d on the axis is the percentile 100 - 100/10^d: 0, 90, 99, 99.9 ...
  return decade === 0 ? '0%' : `${formatExact(100 - 100 / 10 ** decade)}%`;
}

/** Linear interpolation in log x, the axis the reader sees, between the points around x. */
function valueAt(points: [number, number][], x: number): number | undefined {
  for (let i = 1; i < points.length; i++) {
    const [x0, y0] = points[i - 1] as [number, number];
    const [x1, y1] = points[i] as [number, number];
    if (x >= x0 && x <= x1) {
      if (x1 === x0) return y1;
      const f = (Math.log10(x) - Math.log10(x0)) / (Math.log10(x1) - Math.log10(x0));
      return y0 + f * (y1 - y0);
    }
  }
  return undefined;
}

/** A standalone SVG document. */
export function latencyDistributionChart(spec: LatencyChartSpec): string {
  const converted = spec.series.map((s) => ({
    name: s.name,
    points: s.distribution
      .filter(([p, ms]) => Number.isFinite(p) && Number.isFinite(ms))
      .map(([p, ms]): [number, number] => [toX(p), ms])
      .sort((a, b) => a[0] - b[0]),
  }));

  // Whole decades of 1/(1-p), at least to 99% and as far as the data go.
  const finiteXs = converted.flatMap((s) => s.points.map((p) => p[0]).filter(Number.isFinite));
  const decades = Math.ceil(Math.log10(Math.max(100, ...finiteXs)) - 1e-9);
  const end = 10 ** decades;
  for (const s of converted) for (const p of s.points) p[0] = Math.min(p[0], end);

  const latencies = converted.flatMap((s) => s.points.map((p) => p[1]));
  const positive = latencies.filter((ms) => ms > 0);
  const logY = positive.length > 0 && Math.max(...positive) / Math.min(...positive) > LOG_Y_RATIO;
  const y = logY ? logAxis(positive) : linearAxis(latencies, { includeZero: true });

  const ticks: Tick[] = [];
  for (let d = 0; d <= decades; d++) {
    ticks.push({ value: 10 ** d, label: percentileLabel(d) });
    if (d < decades) for (const m of [2, 5]) ticks.push({ value: m * 10 ** d, label: '' });
  }

  const series = converted.map((s) => {
    const points = logY ? s.points.filter((p) => p[1] > 0) : s.points;
    const markers =
      points.length <= MARK_EVERY_POINT
        ? points
        : ticks
            .filter((t) => t.label !== '')
            .flatMap((t): [number, number][] => {
              const ms = valueAt(points, t.value);
              return ms === undefined || (logY && ms <= 0) ? [] : [[t.value, ms]];
            });
    return { name: s.name, points, markers };
  });

  return drawPlot({
    title: spec.title,
    width: spec.width ?? 720,
    height: spec.height ?? 440,
    x: { title: 'percentile', scale: makeScale('log', 1, end), ticks },
    y: { title: logY ? 'latency (ms, log scale)' : 'latency (ms)', ...y },
    series,
  });
}
