/**
 * Vouchers rendered per second on one core (the renderer's CPU-bound part: pdfkit drawing
 * and font subsetting, no I/O), with names in several scripts.
 *
 *   node --import=tsx bench/renderRate.ts [seconds=10]
 */
import { loadFonts } from '../renderer/fonts.js';
import { renderVoucher } from '../renderer/voucherPdf.js';

const seconds = Number(process.argv[2] ?? 10);
const fonts = loadFonts();
const names: [string, string][] = [
  ['Aino', 'Virtanen'],
  ['Zoë', 'Ångström'],
  ['Αλέξανδρος', 'Παπαδόπουλος'],
  ['Анастасия', 'Щербакова'],
  ['محمد', 'العربي'],
  ['שלום', 'כהן'],
  ['さくら', '山田'],
];
// Warm up (font parsing, JIT).
for (let i = 0; i < 20; i += 1) {
  await renderVoucher(
    {
      orderId: `warm-${i}-order`,
      productName: 'Concert',
      firstName: 'A',
      lastName: 'B',
      couponCode: 'K3M9QX-D2HFAW-N8R5T7',
      createdAt: new Date(),
    },
    fonts,
  );
}
const started = process.hrtime.bigint();
const cpuStart = process.cpuUsage();
let count = 0;
let bytes = 0;
while (Number(process.hrtime.bigint() - started) / 1e9 < seconds) {
  const [firstName, lastName] = names[count % names.length] as [string, string];
  const { pdf } = await renderVoucher(
    {
      orderId: `bench-${count}-order`,
      productName: 'Free concert ticket',
      firstName,
      lastName,
      couponCode: 'K3M9QX-D2HFAW-N8R5T7',
      createdAt: new Date('2026-11-28T10:00:00Z'),
    },
    fonts,
  );
  bytes += pdf.length;
  count += 1;
}
const wall = Number(process.hrtime.bigint() - started) / 1e9;
const cpu = process.cpuUsage(cpuStart);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
console.log(
  JSON.stringify(
    {
      vouchers: count,
      wallSeconds: +wall.toFixed(2),
      cpuSeconds: +cpuSeconds.toFixed(2),
      perSecondPerCore: +(count / cpuSeconds).toFixed(1),
      averageBytes: Math.round(bytes / count),
    },
    null,
    2,
  ),
);
