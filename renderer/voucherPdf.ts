/**
 * The voucher: one A6 page with the product, the customer's name in any script, the coupon
 * code large and legible, a QR code of the code, the issue date and short instructions.
 *
 * Deterministic: every date in the file (and the file ID derived from them) is the order's
 * creation time, so rendering the same order again gives identical bytes.
 */
import PDFDocument from 'pdfkit';
import QRCode from 'qrcode';
import { missingCharacters, splitRuns, type FontFile, type FontSet } from './fonts.js';

export interface VoucherData {
  orderId: string;
  productName: string;
  firstName: string;
  lastName: string;
  couponCode: string;
  createdAt: Date;
}

export interface RenderedVoucher {
  pdf: Buffer;
  /** Characters of the name or product no font could show (drawn as nothing: reported). */
  missing: string[];
}

const A6: [number, number] = [297.64, 419.53];
const MARGIN = 22;
const INK = '#1d2733';
const ACCENT = '#0b5cad';
const MUTED = '#5b6673';

/**
 * Laying out text (fontkit's shaping) was a quarter of a voucher's CPU, and almost every word
 * is the same on every voucher. pdfkit caches each word's layout per document, in its font
 * object's `layoutCache`, and never changes a cached layout (it copies one before adjusting
 * it); the layout depends only on the fontkit font. So the documents share one cache per
 * font. If a pdfkit version has no such cache, nothing is shared and nothing breaks.
 */
function shareLayouts(doc: PDFKit.PDFDocument, font: FontFile) {
  const current = (doc as unknown as { _font?: { layoutCache?: unknown } })._font;
  if (current && typeof current.layoutCache === 'object' && current.layoutCache !== null) {
    current.layoutCache = font.layouts();
  }
}

export async function renderVoucher(data: VoucherData, fonts: FontSet): Promise<RenderedVoucher> {
  const doc = new PDFDocument({
    size: A6,
    margin: MARGIN,
    compress: true,
    // No default font: pdfkit would parse Helvetica's metrics for every document, unused here.
    font: null as unknown as string,
    info: {
      Title: `Voucher ${data.couponCode}`,
      Subject: data.productName,
      Creator: 'cloud-reservation-system',
      Producer: 'cloud-reservation-system (pdfkit)',
      CreationDate: data.createdAt,
      ModDate: data.createdAt,
    },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<void>((resolve, reject) => {
    doc.on('end', () => resolve());
    doc.on('error', reject);
  });

  const registered = new Set<string>();
  const use = (font: FontFile) => {
    if (registered.has(font.name)) {
      doc.font(font.name);
      return;
    }
    // pdfkit accepts a parsed fontkit font (its types only say a path or bytes).
    doc.registerFont(font.name, font.font as unknown as Buffer);
    registered.add(font.name);
    doc.font(font.name);
    shareLayouts(doc, font);
  };
  /** Draws text in any script: each run in the first font that has its glyphs. */
  const write = (text: string, size: number, first: FontFile, options: PDFKit.Mixins.TextOptions = {}) => {
    const runs = splitRuns(fonts, text, first);
    doc.fontSize(size);
    runs.forEach((run, i) => {
      use(run.font);
      doc.text(run.text, { ...options, continued: i < runs.length - 1 });
    });
  };
  const width = A6[0] - 2 * MARGIN;

  // Header band with the product's name.
  doc.rect(0, 0, A6[0], 64).fill(ACCENT);
  doc.fillColor('#ffffff');
  doc.x = MARGIN;
  doc.y = 16;
  write('VOUCHER', 9, fonts.bold, { characterSpacing: 2, width });
  write(data.productName, 15, fonts.bold, { width, lineBreak: true });

  // Who it is for.
  doc.fillColor(MUTED);
  doc.x = MARGIN;
  doc.y = 80;
  write('Issued to', 8, fonts.main, { width });
  doc.fillColor(INK);
  write(`${data.firstName} ${data.lastName}`, 15, fonts.main, { width });

  // The code, large, and its QR code.
  doc.moveDown(0.6);
  doc.fillColor(MUTED);
  write('Coupon code', 8, fonts.main, { width });
  doc.fillColor(INK);
  write(data.couponCode, 17, fonts.bold, { width, characterSpacing: 0.5 });

  const qr = QRCode.create(data.couponCode, { errorCorrectionLevel: 'M' });
  const modules = qr.modules.size;
  const quiet = 4;
  const qrSize = 128;
  const cell = qrSize / (modules + 2 * quiet);
  const qrX = (A6[0] - qrSize) / 2;
  const qrY = doc.y + 10;
  doc.rect(qrX, qrY, qrSize, qrSize).fill('#ffffff');
  doc.fillColor('#000000');
  for (let row = 0; row < modules; row += 1) {
    for (let col = 0; col < modules; col += 1) {
      if (qr.modules.get(row, col)) {
        doc.rect(qrX + (col + quiet) * cell, qrY + (row + quiet) * cell, cell, cell);
      }
    }
  }
  doc.fill('#000000');

  // Date and instructions.
  doc.x = MARGIN;
  doc.y = qrY + qrSize + 10;
  doc.fillColor(MUTED);
  write(`Issued ${data.createdAt.toISOString().slice(0, 10)}  ·  Order ${data.orderId}`, 7, fonts.main, {
    width,
    align: 'center',
  });
  doc.moveDown(0.4);
  doc.fillColor(INK);
  write('Show this voucher (or read the code aloud) to our staff. It can be redeemed once.', 8, fonts.main, {
    width,
    align: 'center',
  });

  doc.end();
  await done;
  const missing = missingCharacters(fonts, `${data.productName}${data.firstName}${data.lastName}`);
  return { pdf: Buffer.concat(chunks), missing };
}
