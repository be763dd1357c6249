/**
 * A line chart of measurements against a setting, e.g. orders/s against concurrent clients
 * (1, 16, 64, 256 on a log axis), one line per system under test, ceilings included.
 */
import { drawPlot } from './plot.js';
import { linearAxis, logAxis, type Axis, type ScaleKind } from './scale.js';

export interface LineChartSpec {
  title: string;
  /** With units: "concurrent clients", "orders/s". */
  xTitle: string;
  yTitle: string;
  xScale?: ScaleKind;
  yScale?: ScaleKind;
  series: { name: string; points: [number, number][] }[];
  /** Default 720 × 440, GitHub's column for a Markdown page. */
  width?: number;
  height?: number;
  /** Label exactly these x values (the settings measured) instead of round ones. */
  xTicks?: number[];
}

function axis(kind: ScaleKind, values: number[], options: { includeZero?: boolean; ticks?: number[] }): Axis {
  return kind === 'log' ? logAxis(values, options) : linearAxis(values, options);
}

/** A standalone SVG document. Points a log axis cannot show (zero, negative) are left out. */
export function lineChart(spec: LineChartSpec): string {
  const xKind = spec.xScale ?? 'linear';
  const yKind = spec.yScale ?? 'linear';
  const shown = (v: number, kind: ScaleKind) => Number.isFinite(v) && (kind === 'linear' || v > 0);
  const series = spec.series.map((s) => {
    const points = s.points
      .filter(([x, y]) => shown(x, xKind) && shown(y, yKind))
      .sort((a, b) => a[0] - b[0]);
    return { name: s.name, points, markers: points };
  });
  const xs = series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = series.flatMap((s) => s.points.map((p) => p[1]));
  return drawPlot({
    title: spec.title,
    width: spec.width ?? 720,
    height: spec.height ?? 440,
    x: { title: spec.xTitle, ...axis(xKind, xs, spec.xTicks ? { ticks: spec.xTicks } : {}) },
    // A rate or a latency starts at zero: a y axis cut above it exaggerates differences.
    y: { title: spec.yTitle, ...axis(yKind, ys, { includeZero: true }) },
    series,
  });
}
