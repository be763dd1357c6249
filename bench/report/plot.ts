/**
 * The frame both charts draw into: title, legend, gridlines, axes with their titles, and one
 * line per series with markers. The charts decide the axes and what the data mean; this
 * module only lays them out, sized from estimated text widths so nothing overlaps at 720 px.
 */
import type { Axis } from './scale.js';
import { escapeXml, marker, px, seriesStyle, svgDocument, text, textWidth, type SeriesStyle } from './svg.js';

export interface PlotSeries {
  name: string;
  /** In data units, already restricted to what the axes can show (positive on a log axis). */
  points: [number, number][];
  /** Where to draw this series' markers, in data units. */
  markers: [number, number][];
}

export interface PlotSpec {
  title: string;
  width: number;
  height: number;
  x: Axis & { title: string };
  y: Axis & { title: string };
  series: PlotSeries[];
}

const PAD = 16;
const TITLE_SIZE = 18;
const LEGEND_SIZE = 13;
const LEGEND_ROW = 22;
const LEGEND_SAMPLE = 34;
const TICK_SIZE = 12;
const AXIS_TITLE_SIZE = 13;
/** Keeps markers at the ends of the x range off the y axis and the plot's right edge. */
const X_INSET = 10;
const GRID = '#e3e3e3';
const GRID_MINOR = '#f1f1f1';
const AXIS = '#555555';
const MUTED = '#444444';

interface LegendItem {
  name: string;
  style: SeriesStyle;
  x: number;
  row: number;
}

/** Legend entries left to right, wrapping to a new row when the next would not fit. */
function layLegend(series: PlotSeries[], left: number, right: number): LegendItem[] {
  const items: LegendItem[] = [];
  let x = left;
  let row = 0;
  for (const [i, s] of series.entries()) {
    const w = LEGEND_SAMPLE + 6 + textWidth(s.name, LEGEND_SIZE);
    if (x > left && x + w > right) {
      x = left;
      row++;
    }
    items.push({ name: s.name, style: seriesStyle(i), x, row });
    x += w + 22;
  }
  return items;
}

function drawLegend(items: LegendItem[], top: number): string[] {
  return items.map((item) => {
    const y = top + item.row * LEGEND_ROW + LEGEND_ROW / 2;
    const { color, dash, marker: shape } = item.style;
    return [
      '<g>',
      `<line x1="${px(item.x)}" y1="${px(y)}" x2="${px(item.x + LEGEND_SAMPLE)}" y2="${px(y)}" stroke="${color}" stroke-width="2.5"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`,
      marker(shape, item.x + LEGEND_SAMPLE / 2, y, color),
      text(item.x + LEGEND_SAMPLE + 6, y + LEGEND_SIZE * 0.35, item.name, { size: LEGEND_SIZE }),
      '</g>',
    ].join('');
  });
}

export function drawPlot(spec: PlotSpec): string {
  const { width, height, x, y } = spec;

  // A title too long for the width gets smaller rather than clipped.
  const titleRoom = width - 2 * PAD;
  const titleSize = Math.max(
    12,
    Math.min(TITLE_SIZE, (TITLE_SIZE * titleRoom) / textWidth(spec.title, TITLE_SIZE, true)),
  );
  const titleBaseline = PAD + titleSize * 0.85;

  const legend = layLegend(spec.series, PAD, width - PAD);
  const legendTop = titleBaseline + 10;
  const legendRows = legend.length === 0 ? 0 : Math.max(...legend.map((item) => item.row)) + 1;

  // Room for y tick labels decides where the plot starts; the last x label, where it ends.
  const yLabels = y.ticks.filter((t) => t.label !== '');
  const yLabelWidth = Math.max(0, ...yLabels.map((t) => textWidth(t.label, TICK_SIZE)));
  const left = PAD + AXIS_TITLE_SIZE + 10 + yLabelWidth + 8;
  const lastX = [...x.ticks].reverse().find((t) => t.label !== '' && t.value === x.scale.max);
  const right = width - Math.max(PAD, lastX ? textWidth(lastX.label, TICK_SIZE) / 2 - X_INSET + 4 : 0);
  const top = legendTop + legendRows * LEGEND_ROW + 14;
  const bottom = height - PAD - AXIS_TITLE_SIZE - 10 - TICK_SIZE - 8;

  const toX = (v: number) => left + X_INSET + x.scale.fraction(v) * (right - left - 2 * X_INSET);
  const toY = (v: number) => bottom - y.scale.fraction(v) * (bottom - top);

  const body: string[] = [];
  body.push(text(PAD, titleBaseline, spec.title, { size: Math.floor(titleSize), weight: 'bold' }));
  body.push(...drawLegend(legend, legendTop));

  // Gridlines first, under everything; minor ones (no label) fainter.
  const grid: string[] = [];
  for (const t of y.ticks) {
    const gy = toY(t.value);
    grid.push(
      `<line x1="${px(left)}" y1="${px(gy)}" x2="${px(right)}" y2="${px(gy)}" stroke="${t.label ? GRID : GRID_MINOR}" stroke-width="1"/>`,
    );
  }
  for (const t of x.ticks) {
    const gx = toX(t.value);
    grid.push(
      `<line x1="${px(gx)}" y1="${px(top)}" x2="${px(gx)}" y2="${px(bottom)}" stroke="${t.label ? GRID : GRID_MINOR}" stroke-width="1"/>`,
    );
  }
  body.push(`<g class="grid">${grid.join('')}</g>`);

  // Y tick labels, right-aligned against the plot, vertically centred on their gridline.
  body.push(
    '<g class="y-axis">' +
      yLabels
        .map((t) =>
          text(left - 8, toY(t.value) + TICK_SIZE * 0.35, t.label, {
            size: TICK_SIZE,
            anchor: 'end',
            fill: MUTED,
          }),
        )
        .join('') +
      '</g>',
  );

  // X tick labels, skipping any that would run into the one before (its gridline stays).
  const xLabels: string[] = [];
  let lastEnd = -Infinity;
  for (const t of x.ticks) {
    if (t.label === '') continue;
    const cx = toX(t.value);
    const half = textWidth(t.label, TICK_SIZE) / 2;
    if (cx - half < lastEnd + 6) continue;
    lastEnd = cx + half;
    xLabels.push(
      text(cx, bottom + 8 + TICK_SIZE, t.label, { size: TICK_SIZE, anchor: 'middle', fill: MUTED }),
    );
  }
  body.push(`<g class="x-axis">${xLabels.join('')}</g>`);

  body.push(
    `<path d="M${px(left)} ${px(top)}V${px(bottom)}H${px(right)}" fill="none" stroke="${AXIS}" stroke-width="1"/>`,
  );
  body.push(
    text((left + right) / 2, height - PAD, x.title, { size: AXIS_TITLE_SIZE, anchor: 'middle', fill: MUTED }),
  );
  const yTitleX = PAD + AXIS_TITLE_SIZE * 0.8;
  body.push(
    text(yTitleX, (top + bottom) / 2, y.title, {
      size: AXIS_TITLE_SIZE,
      anchor: 'middle',
      fill: MUTED,
      rotate: -90,
    }),
  );

  // Lines, then all markers above all lines: a marker is what a reader looks for.
  const styles = spec.series.map((_, i) => seriesStyle(i));
  const lines = spec.series.map((s, i) => {
    const { color, dash } = styles[i] as SeriesStyle;
    const points = s.points.map(([vx, vy]) => `${px(toX(vx))},${px(toY(vy))}`).join(' ');
    return `<polyline points="${points}" fill="none" stroke="${color}" stroke-width="2.25" stroke-linejoin="round" stroke-linecap="round"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`;
  });
  const marks = spec.series.map((s, i) => {
    const { color, marker: shape } = styles[i] as SeriesStyle;
    return s.markers.map(([vx, vy]) => marker(shape, toX(vx), toY(vy), color)).join('');
  });
  body.push(
    ...spec.series.map((s, i) => `<g class="series" data-name="${escapeXml(s.name)}">${lines[i] ?? ''}</g>`),
  );
  body.push(`<g class="markers">${marks.join('')}</g>`);

  return svgDocument(width, height, spec.title, body);
}
