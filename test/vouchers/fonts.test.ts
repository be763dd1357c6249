/**
 * Names in any script end up on the voucher: the extracted text holds every character of the
 * name, no character lacks a glyph, and what no font can show is reported.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { loadFonts } from '../../renderer/fonts.js';
import { renderVoucher } from '../../renderer/voucherPdf.js';

const run = promisify(execFile);
const fonts = loadFonts();
const dir = await mkdtemp(join(tmpdir(), 'crs-fonts-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

const voucher = (firstName: string, lastName: string) =>
  renderVoucher(
    {
      orderId: 'fonts-test-0001',
      productName: 'Concert',
      firstName,
      lastName,
      couponCode: 'K3M9QX-D2HFAW-N8R5T7',
      createdAt: new Date('2026-11-28T10:00:00Z'),
    },
    fonts,
  );

async function extract(pdf: Buffer, name: string) {
  const file = join(dir, `${name}.pdf`);
  await writeFile(file, pdf);
  const { stdout } = await run('pdftotext', [file, '-']);
  return stdout;
}

const scripts: [string, string, string][] = [
  ['Latin with diacritics', 'Zoë Ångström', 'Łukasz Żółć-Dvořák'],
  ['Greek', 'Αλέξανδρος', 'Παπαδόπουλος'],
  ['Cyrillic', 'Анастасия', 'Щербакова'],
  ['Arabic', 'محمد', 'العربي'],
  ['Hebrew', 'שלום', 'כהן'],
  ['CJK (Chinese)', '王', '小明'],
  ['CJK (Japanese)', 'さくら', '山田'],
];

for (const [script, first, last] of scripts) {
  t.test(script, async (t) => {
    const rendered = await voucher(first, last);
    t.same(rendered.missing, [], 'every character has a glyph');
    const text = (await extract(rendered.pdf, script.replace(/\W/g, '_'))).normalize('NFC');
    for (const char of `${first}${last}`) {
      if (char === ' ') continue;
      if (!text.includes(char)) t.fail(`${char} (U+${char.codePointAt(0)?.toString(16)}) not in the text`);
    }
    t.pass(`${first} ${last}: every character is in the PDF's text`);
  });
}

t.test('characters no font has are reported, not silently dropped', async (t) => {
  const rendered = await voucher('김민준', 'Smith');
  t.same(rendered.missing.sort(), ['김', '민', '준'].sort());
});

t.test('the same order renders to identical bytes', async (t) => {
  const a = await voucher('Zoë', '山田');
  const b = await voucher('Zoë', '山田');
  t.ok(a.pdf.equals(b.pdf));
});

t.test('what vouchers share (decoded glyphs, laid-out words) changes none of them', async (t) => {
  // `fonts` has drawn every script above; a fresh set has drawn nothing.
  const order = {
    orderId: 'fonts-test-0002',
    productName: 'Concert Zoë',
    firstName: 'Αλέξανδρος Zoë',
    lastName: '山田 Buyer',
    couponCode: 'K3M9QX-D2HFAW-N8R5T7',
    createdAt: new Date('2026-11-28T10:00:00Z'),
  };
  const fresh = await renderVoucher(order, loadFonts());
  const shared = await renderVoucher(order, fonts);
  t.ok(fresh.pdf.equals(shared.pdf), 'identical bytes');
});
