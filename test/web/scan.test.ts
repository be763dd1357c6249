/**
 * Scan to redeem, end to end in Chromium: the fake camera shows a real rendered voucher (its
 * PDF page, rasterised by pdftoppm, as a YUV4MPEG2 video), the staff page reads its QR code
 * with jsQR, shows whose voucher it is and redeems it once; scanned again, it says when and by
 * which sign-in it was redeemed. A browser that refuses the camera is told to type the code.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { loadFonts } from '../../renderer/fonts.js';
import { readVoucherData } from '../../renderer/renderVoucherTask.js';
import { renderVoucher } from '../../renderer/voucherPdf.js';
import type { Browser } from 'playwright-core';
import { launchBrowser, openPage, screenshot, type BrowserPage } from '../support/browser.js';
import { makeTestDatabase } from '../support/database.js';
import { orderBody, startTestApi } from '../support/api.js';
import { pngToY4m } from '../support/y4m.js';

const run = promisify(execFile);
const db = await makeTestDatabase(t);
const live = await startTestApi(t, db);
const { http, baseUrl } = live;

interface Prepared {
  orderId: string;
  couponCode: string;
  browser: Browser;
}

/** An order with its voucher as the renderer draws it, and a browser whose camera shows it. */
async function prepare(): Promise<Prepared> {
  await http.request('/api/admin/products/scan-desk', {
    method: 'PUT',
    headers: { authorization: `Bearer ${live.adminToken}` },
    body: { name: 'Scanned tote bag', total: 5 },
  });
  const placed = await http.request('/api/orders', {
    body: orderBody({ productId: 'scan-desk', firstName: 'Saara', lastName: 'Skannaaja' }),
  });
  if (placed.status !== 201) throw new Error(`order refused: ${placed.text}`);
  const orderId = placed.json.orderId as string;
  const data = await readVoucherData(db.owner, orderId);
  if (!data) throw new Error(`no voucher data for ${orderId}`);
  const { pdf } = await renderVoucher(data, loadFonts());
  await db.owner.query(`select crs.record_voucher($1, 'orders/' || $1 || '.pdf')`, [orderId]);

  const dir = await mkdtemp(join(tmpdir(), 'crs-scan-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'voucher.pdf'), pdf);
  await run('pdftoppm', [
    '-png',
    '-singlefile',
    '-scale-to',
    '720',
    join(dir, 'voucher.pdf'),
    join(dir, 'page'),
  ]);
  const video = join(dir, 'voucher.y4m');
  await writeFile(video, pngToY4m(await readFile(join(dir, 'page.png'))));
  const browser = await launchBrowser(t, [
    '--use-fake-device-for-media-stream',
    `--use-file-for-fake-video-capture=${video}`,
  ]);
  return { orderId, couponCode: data.couponCode, browser };
}
let prepared: Prepared;

async function signedInDesk(camera: boolean): Promise<BrowserPage> {
  const opened = await openPage(t, prepared.browser, { viewport: 'phone' });
  if (camera) await opened.context.grantPermissions(['camera'], { origin: baseUrl });
  const { page } = opened;
  await page.goto(`${baseUrl}/staff`);
  await page.getByLabel('Staff token').fill(live.staffToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Look up a coupon code' }).waitFor();
  return opened;
}

t.test('staff scan the voucher, see whose it is, and redeem it once', async (t) => {
  prepared = await prepare();
  const { orderId } = prepared;
  const opened = await signedInDesk(true);
  const { page } = opened;
  await page.getByRole('button', { name: 'Scan the QR code' }).click();
  const result = page.locator('#lookup-result');
  await result.getByText('Saara Skannaaja').waitFor({ timeout: 20_000 });
  t.ok(await result.getByText('Scanned tote bag').isVisible(), 'the product');
  t.ok(await result.getByText('Valid, not redeemed').isVisible(), 'the state');
  t.equal(
    await page.getByRole('textbox', { name: 'Coupon code' }).inputValue(),
    prepared.couponCode,
    'the code read from the QR is in the field',
  );
  t.equal(await page.locator('[data-scan-video]').isVisible(), false, 'the camera is off once read');
  await screenshot(page, 'staff-scanned-phone');

  await page.getByRole('button', { name: 'Redeem' }).click();
  await result.getByText(/Redeemed on .*Hand over the product/).waitFor();
  const { rows: after } = await db.owner.query('select status from crs.orders where order_id = $1', [
    orderId,
  ]);
  t.equal(after[0]?.status, 'redeemed', 'redeemed in the database');

  // The same voucher scanned again: refused, with when and through which sign-in.
  await page.getByRole('button', { name: 'Scan the QR code' }).click();
  await result.locator('[data-outcome="found"]').waitFor({ timeout: 20_000 });
  t.match(await result.innerText(), /Already redeemed \(/, 'already redeemed, and when');
  t.match(await result.innerText(), /By staff \(sign-in #[0-9a-f]{8}\)/, 'by whom');
  t.equal(await page.getByRole('button', { name: 'Redeem' }).count(), 0, 'no Redeem button');
  await screenshot(page, 'staff-scanned-again-phone');
  t.same(opened.problems, [], 'no script error, CSP violation or missing asset');
});

t.test('a refused camera says so, and typing the code still works', async (t) => {
  const opened = await signedInDesk(false);
  const { page } = opened;
  await page.getByRole('button', { name: 'Scan the QR code' }).click();
  await page.getByText('The camera is not allowed').waitFor();
  t.ok(await page.getByRole('button', { name: 'Scan the QR code' }).isVisible(), 'may try again');
  await screenshot(page, 'staff-camera-refused-phone');
  await page.getByRole('textbox', { name: 'Coupon code' }).fill(prepared.couponCode.toLowerCase());
  await page.getByRole('button', { name: 'Look up' }).click();
  await page.locator('#lookup-result').getByText('Saara Skannaaja').waitFor();
  t.same(opened.problems, []);
});
