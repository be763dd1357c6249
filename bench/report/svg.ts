/**
 * The pieces every chart shares. Charts are embedded in docs/benchmarks.md on GitHub, which shows
 * SVG as an image: no scripts, no external fonts or CSS, so everything is an attribute, the
 * font is the reader's own sans-serif, and the document carries its own size and background.
 */

/** System fonts only: nothing to fetch, and metrics close to Arial's on every platform. */
export const FONT_STACK =
  "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, 'Noto Sans', 'Liberation Sans', sans-serif";

/**
 * Okabe-Ito, without its yellow (too pale on white) and with black last: distinguishable
 * with the common colour-vision deficiencies. Shape and dash tell series apart as well.
 */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];

export const DASHES = ['', '8 4', '2 3', '10 3 2 3', '4 4', '14 4'];

export type MarkerShape = 'circle' | 'square' | 'triangle' | 'diamond' | 'triangle-down' | 'cross';

export const MARKERS: MarkerShape[] = ['circle', 'square', 'triangle', 'diamond', 'triangle-down', 'cross'];

export interface SeriesStyle {
  color: string;
  dash: string;
  marker: MarkerShape;
}

/** The i-th series' colour, dash and marker; six series in a row differ in all three. */
export function seriesStyle(i: number): SeriesStyle {
  return {
    color: PALETTE[i % PALETTE.length] as string,
    dash: DASHES[i % DASHES.length] as string,
    marker: MARKERS[i % MARKERS.length] as MarkerShape,
  };
}

// Characters XML 1.0 forbids even escaped: a stray control byte in a series name would make
// the whole image unreadable.
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

/** Text safe for element content and double- or single-quoted attribute values. */
export function escapeXml(text: string): string {
  return text
    .replace(FORBIDDEN, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Pixel coordinates to a tenth: smaller files, no visible difference. */
export function px(n: number): string {
  return String(Math.round(n * 10) / 10);
}

/**
 * An estimate of a text's width in a proportional sans-serif, slightly generous so labels
 * laid out with it don't collide in a wider fallback font. There is no font to measure.
 */
export function textWidth(text: string, fontSize: number, bold = false): number {
  // Per-character widths in em, close to DejaVu Sans, the widest common fallback.
  let em = 0;
  for (const ch of text) {
    if (/[ il.,:;'|!()[\]fjt]/.test(ch)) em += 0.34;
    else if (/[mwMW%@]/.test(ch)) em += 0.95;
    else if (/[A-Z&]/.test(ch)) em += 0.72;
    else em += 0.63;
  }
  return em * fontSize * (bold ? 1.1 : 1);
}

export interface TextOptions {
  size?: number;
  anchor?: 'start' | 'middle' | 'end';
  weight?: 'normal' | 'bold';
  fill?: string;
  rotate?: number;
  cssClass?: string;
}

export function text(x: number, y: number, content: string, options: TextOptions = {}): string {
  const attrs = [`x="${px(x)}"`, `y="${px(y)}"`, `font-size="${options.size ?? 12}"`];
  if (options.anchor && options.anchor !== 'start') attrs.push(`text-anchor="${options.anchor}"`);
  if (options.weight === 'bold') attrs.push('font-weight="bold"');
  attrs.push(`fill="${options.fill ?? '#222222'}"`);
  if (options.rotate) attrs.push(`transform="rotate(${options.rotate} ${px(x)} ${px(y)})"`);
  if (options.cssClass) attrs.push(`class="${options.cssClass}"`);
  return `<text ${attrs.join(' ')}>${escapeXml(content)}</text>`;
}

/** A marker centred on (x, y), filled with the series colour and ringed in white so it stays
 * visible where lines cross. */
export function marker(shape: MarkerShape, x: number, y: number, color: string, r = 4.5): string {
  const ring = `stroke="#ffffff" stroke-width="1"`;
  switch (shape) {
    case 'circle':
      return `<circle cx="${px(x)}" cy="${px(y)}" r="${px(r)}" fill="${color}" ${ring}/>`;
    case 'square': {
      const s = r * 0.9;
      return `<rect x="${px(x - s)}" y="${px(y - s)}" width="${px(2 * s)}" height="${px(2 * s)}" fill="${color}" ${ring}/>`;
    }
    case 'triangle':
      return polygon([x, y - r * 1.2, x + r * 1.1, y + r * 0.8, x - r * 1.1, y + r * 0.8], color, ring);
    case 'triangle-down':
      return polygon([x, y + r * 1.2, x + r * 1.1, y - r * 0.8, x - r * 1.1, y - r * 0.8], color, ring);
    case 'diamond':
      return polygon([x, y - r * 1.25, x + r, y, x, y + r * 1.25, x - r, y], color, ring);
    case 'cross': {
      const s = r * 0.85;
      return `<path d="M${px(x - s)} ${px(y - s)}L${px(x + s)} ${px(y + s)}M${px(x - s)} ${px(y + s)}L${px(x + s)} ${px(y - s)}" stroke="${color}" stroke-width="2.5" stroke-linecap="round" fill="none"/>`;
    }
  }
}

function polygon(coords: number[], color: string, ring: string): string {
  return `<polygon points="${coords.map(px).join(' ')}" fill="${color}" ${ring}/>`;
}

/** A standalone document: size, viewBox, a title for screen readers, a white background. */
export function svgDocument(width: number, height: number, title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" font-family="${escapeXml(FONT_STACK)}">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
