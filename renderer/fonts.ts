/**
 * Fonts for names in any script, shipped by npm packages: DejaVu Sans (Latin, Greek,
 * Cyrillic, Hebrew, Arabic, ...) first, then Noto Sans SC (CJK: Han, kana) for what DejaVu
 * lacks. Noto Sans SC comes from @fontsource in ~100 subset files; each is one fallback
 * font, tried in turn, glyph by glyph. Characters no font has are reported, never dropped
 * silently.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as fontkit from 'fontkit';

const require = createRequire(import.meta.url);

export interface FontFile {
  /** Name the PDF registers it under. */
  name: string;
  /**
   * The parsed font, shared by every document: pdfkit takes fontkit fonts as they are, so
   * tables (cmap, GSUB, GPOS) are parsed once per process, not once per voucher.
   */
  font: fontkit.Font;
  has(codePoint: number): boolean;
  /**
   * pdfkit's cache of laid-out words for this font, shared by the documents that use it (see
   * voucherPdf.ts); renewed every LAYOUT_CACHE_DOCUMENTS documents, so names do not pile up.
   */
  layouts(): Record<string, unknown>;
}

/** Documents that share one layout cache before it is renewed (a few thousand words). */
const LAYOUT_CACHE_DOCUMENTS = 1_000;

export interface FontSet {
  /** The main font, also used for the layout's own text. */
  main: FontFile;
  bold: FontFile;
  /** main first, then the fallbacks in order. */
  chain: FontFile[];
  /** Files that could not be read (reported at start, skipped). */
  unreadable: string[];
}

export interface TextRun {
  font: FontFile;
  text: string;
}

function packageDir(name: string) {
  return dirname(require.resolve(`${name}/package.json`));
}

/**
 * Each voucher embeds a subset of its fonts, and fontkit's subsetter decodes every glyph it
 * copies again for each subset: a quarter of a voucher's CPU (profile of 1,500 renders). A
 * static font's decoded glyph never changes (fontkit only moves the points of variable
 * fonts' glyphs), and fontkit keeps one glyph object per glyph id, so each glyph object keeps
 * its first decoding. `_decode` is fontkit's own (untyped) method, wrapped per object.
 */
function decodeGlyphsOnce(font: fontkit.Font) {
  if (Object.keys(font.variationAxes ?? {}).length > 0) return;
  const getGlyph = font.getGlyph.bind(font);
  const wrapped = new WeakSet<object>();
  font.getGlyph = (id, codePoints) => {
    const glyph = getGlyph(id, codePoints) as fontkit.Glyph & { _decode?: () => unknown };
    const decode = glyph?._decode;
    if (glyph && decode && !wrapped.has(glyph)) {
      wrapped.add(glyph);
      let decoded: { value: unknown } | undefined;
      glyph._decode = () => (decoded ??= { value: decode.call(glyph) }).value;
    }
    return glyph;
  };
}

function load(name: string, path: string): FontFile {
  const font = fontkit.create(readFileSync(path)) as fontkit.Font;
  decodeGlyphsOnce(font);
  font.hasGlyphForCodePoint(0x41); // parses the cmap now: a broken file fails here, not mid-render
  let layouts: Record<string, unknown> = Object.create(null);
  let documents = 0;
  return {
    name,
    font,
    has: (cp) => font.hasGlyphForCodePoint(cp),
    layouts() {
      documents += 1;
      if (documents % LAYOUT_CACHE_DOCUMENTS === 0) layouts = Object.create(null);
      return layouts;
    },
  };
}

export function loadFonts(): FontSet {
  const dejavu = join(packageDir('dejavu-fonts-ttf'), 'ttf');
  const main = load('DejaVuSans', join(dejavu, 'DejaVuSans.ttf'));
  const bold = load('DejaVuSans-Bold', join(dejavu, 'DejaVuSans-Bold.ttf'));
  const cjkDir = join(packageDir('@fontsource/noto-sans-sc'), 'files');
  const unreadable: string[] = [];
  const cjk: FontFile[] = [];
  const files = readdirSync(cjkDir)
    .filter((file) => /^noto-sans-sc-\d+-400-normal\.woff$/.test(file))
    .sort((a, b) => Number(a.split('-')[3]) - Number(b.split('-')[3]));
  for (const file of files) {
    try {
      cjk.push(load(`NotoSansSC-${file.split('-')[3]}`, join(cjkDir, file)));
    } catch {
      unreadable.push(file);
    }
  }
  return { main, bold, chain: [main, ...cjk], unreadable };
}

/** Characters that every font lacks, which a voucher could not show. */
export function missingCharacters(fonts: FontSet, text: string): string[] {
  const missing = new Set<string>();
  for (const char of text) {
    const cp = char.codePointAt(0) as number;
    if (isLayoutOnly(cp)) continue;
    if (!fonts.chain.some((font) => font.has(cp))) missing.add(char);
  }
  return [...missing];
}

/** Spaces, joiners and marks follow the run they are in rather than choosing a font. */
function isLayoutOnly(cp: number) {
  return cp === 0x20 || cp === 0x200c || cp === 0x200d || (cp >= 0xfe00 && cp <= 0xfe0f);
}

/** Splits text into runs, each drawn with the first font of the chain that has its glyphs. */
export function splitRuns(fonts: FontSet, text: string, first: FontFile = fonts.main): TextRun[] {
  const runs: TextRun[] = [];
  for (const char of text) {
    const cp = char.codePointAt(0) as number;
    const current = runs[runs.length - 1];
    const font =
      isLayoutOnly(cp) || (current && current.font.has(cp))
        ? (current?.font ?? first)
        : (fonts.chain.find((candidate) => candidate.has(cp)) ?? first);
    if (current && current.font === font) current.text += char;
    else runs.push({ font, text: char });
  }
  return runs;
}
