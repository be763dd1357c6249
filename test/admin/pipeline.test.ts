/**
 * The admin page's pipeline panel moves when orders flow: its event stream reports the orders
 * of this minute, the render jobs waiting, the vouchers stored and the oldest order still
 * without one, each changing as orders are placed, queued and their vouchers stored; and in
 * the browser the page's script draws the chart and keeps the figures current.
 */
import t from 'tap';
import { launchBrowser, openPage, screenshot } from '../support/browser.js';
import { makeTestDatabase } from '../support/database.js';
import { openEventStream, orderBody, startTestApi } from '../support/api.js';
import { adminCookie } from '../support/adminSession.js';

const db = await makeTestDatabase(t);
const live = await startTestApi(t, db);
const { http } = live;
const admin = { authorization: `Bearer ${live.adminToken}` };
await http.request('/api/admin/products/pipeline', {
  method: 'PUT',
  headers: admin,
  body: { name: 'Pipeline tote', total: 100 },
});

interface Figures {
  remaining: number;
  ordersPerMinute: number[];
  ordersLastMinute: number;
  renderJobsWaiting: number;
  vouchersLastMinute: number;
  oldestWithoutVoucherSeconds: number | null;
}

t.test('the figures move as orders are placed, queued and their vouchers stored', async (t) => {
  const cookie = await adminCookie(http, live.adminToken);
  const stream = await openEventStream(live.baseUrl, '/admin/pipeline/events?productId=pipeline', { cookie });
  t.equal(stream.status, 200);
  t.teardown(() => stream.close());
  const next = async () => (await stream.next('pipeline', 10_000)) as Figures;

  const before = await next();
  t.equal(before.ordersPerMinute.length, 30, 'thirty minutes in the chart');
  t.equal(before.ordersLastMinute, 0);
  t.equal(before.oldestWithoutVoucherSeconds, null, 'no order waits');

  const placed: string[] = [];
  for (let i = 0; i < 5; i += 1) {
    const res = await http.request('/api/orders', { body: orderBody({ productId: 'pipeline' }) });
    placed.push(res.json.orderId as string);
  }
  await db.owner.query('select crs.enqueue_render_jobs($1)', [placed]);
  const during = await next();
  // Summed over the chart: the five may straddle a minute's turn.
  const sum = (counts: number[]) => counts.reduce((a, b) => a + b, 0);
  t.equal(sum(during.ordersPerMinute), sum(before.ordersPerMinute) + 5, 'five more orders in the chart');
  t.ok(during.ordersLastMinute >= 1, 'orders this minute');
  t.equal(during.ordersLastMinute, during.ordersPerMinute.at(-1), 'this minute is the chart’s last bar');
  t.equal(during.remaining, 95);
  t.equal(during.renderJobsWaiting, before.renderJobsWaiting + 5, 'five vouchers waiting to be drawn');
  t.type(during.oldestWithoutVoucherSeconds, 'number', 'an order waits for its voucher');

  for (const orderId of placed) {
    await db.owner.query(`select crs.record_voucher($1, 'orders/' || $1 || '.pdf')`, [orderId]);
  }
  const after = await next();
  t.equal(after.vouchersLastMinute, before.vouchersLastMinute + 5, 'five vouchers stored this minute');
  t.equal(after.oldestWithoutVoucherSeconds, null, 'none waits any more');
});

t.test('the page draws the chart and keeps the figures current', async (t) => {
  const browser = await launchBrowser(t);
  const opened = await openPage(t, browser, { viewport: 'desktop' });
  const { page } = opened;
  await page.goto(`${live.baseUrl}/admin?productId=pipeline`);
  await page.getByLabel('Admin token').fill(live.adminToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('[data-pipeline][data-updated]').waitFor();
  t.equal(await page.locator('[data-chart] svg rect').count(), 30, 'a bar per minute');
  t.equal(await page.locator('[data-chart] svg polyline.remaining').count(), 1, 'and the stock remaining');
  const firstUpdate = await page.locator('[data-pipeline]').getAttribute('data-updated');
  await http.request('/api/orders', { body: orderBody({ productId: 'pipeline' }) });
  await page.waitForFunction(
    (previous) => document.querySelector('[data-pipeline]')?.getAttribute('data-updated') !== previous,
    firstUpdate,
  );
  await page.locator('[data-figure="remaining"]', { hasText: '94 / 100' }).waitFor();
  t.not(await page.locator('[data-figure="orders-last-minute"]').innerText(), '0', 'orders this minute');
  await screenshot(page, 'admin-pipeline-desktop');
  t.same(opened.problems, [], 'no script error, CSP violation or missing asset');
});
