/**
 * axe-core on every page, at a phone's width (390) and a desktop's (1280): the product page,
 * an order's page, the staff desk with a voucher looked up, the admin page with a search, a
 * product's orders and the audit trail. No serious or critical violation may remain.
 */
import { createRequire } from 'node:module';
import t from 'tap';
import type { Page } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import { makeTestDatabase } from '../support/database.js';
import { orderBody, startTestApi } from '../support/api.js';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
const db = await makeTestDatabase(t);
const live = await startTestApi(t, db);
const { http, baseUrl } = live;

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** axe's serious and critical violations on the page as it is now. */
async function violations(page: Page): Promise<string[]> {
  // The pages' CSP allows no injected script: this context bypasses it (bypassCSP) for axe.
  await page.addScriptTag({ path: AXE });
  const found = (await page.evaluate(async () => {
    const axe = (
      window as unknown as { axe: { run: (options: object) => Promise<{ violations: unknown[] }> } }
    ).axe;
    return (await axe.run({ resultTypes: ['violations'] })).violations;
  })) as Violation[];
  return found
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

t.test('no serious or critical axe violation on any page, on a phone and a desktop', async (t) => {
  const admin = { authorization: `Bearer ${live.adminToken}` };
  await http.request('/api/admin/products/default', { method: 'PUT', headers: admin, body: { total: 100 } });
  const orders = [];
  for (let i = 0; i < 3; i += 1) {
    const res = await http.request('/api/orders', {
      body: orderBody({ productId: 'default', firstName: `Axe${i}` }),
    });
    orders.push(res.json as { orderId: string; accessToken: string });
  }
  const { rows } = await db.owner.query('select coupon_code from crs.orders where order_id = $1', [
    orders[0]!.orderId,
  ]);
  const code = String(rows[0]?.coupon_code);
  await http.request(`/api/vouchers/${code}/redeem`, {
    method: 'POST',
    headers: { authorization: `Bearer ${live.staffToken}` },
  });

  const browser = await launchBrowser(t);
  for (const viewport of [
    { width: 390, height: 844 },
    { width: 1280, height: 800 },
  ]) {
    const context = await browser.newContext({ viewport, bypassCSP: true, locale: 'en-GB' });
    t.teardown(() => context.close());
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    const check = async (name: string) =>
      t.same(await violations(page), [], `${name} at ${viewport.width} px`);

    await page.goto(`${baseUrl}/`);
    await check('the product page');
    await page.goto(`${baseUrl}/orders/${orders[1]!.orderId}#token=${orders[1]!.accessToken}`);
    await page.getByRole('heading').first().waitFor();
    await check("an order's page");

    await page.goto(`${baseUrl}/staff`);
    await check('the staff sign-in');
    await page.getByLabel('Staff token').fill(live.staffToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('textbox', { name: 'Coupon code' }).fill(code);
    await page.getByRole('button', { name: 'Look up' }).click();
    await page.locator('#lookup-result [data-outcome]').waitFor();
    await check('the staff desk with a redeemed voucher');

    await page.goto(`${baseUrl}/admin`);
    await page.getByLabel('Admin token').fill(live.adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Stock', exact: true }).waitFor();
    await page.goto(`${baseUrl}/admin?productId=default&q=axe`);
    await page.locator('#search [data-order-id]').first().waitFor();
    await check('the admin page with search results, orders and the audit trail');
  }
});
