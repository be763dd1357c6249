/**
 * Every page fits every screen (issue 24): each page a customer, staff or an admin meets, in
 * each of its states, at 320, 360, 390, 768 and 1280 px wide, in Chromium against the whole
 * system. A page fails if the document is wider than the viewport (it would scroll sideways)
 * or if a control (link, button, field) lies outside the viewport or outside the visible part
 * of a container that clips it (a Save button scrolled out of a table). Screenshots of every
 * page at every width are kept in test/screenshots/ (screens-<page>-<width>.png).
 */
import type { Page } from 'playwright-core';
import t, { type Test } from 'tap';
import { orderBody } from '../support/api.js';
import { launchBrowser, openPage, screenshot } from '../support/browser.js';
import { startTestRenderer } from '../support/renderer.js';
import { startWholeSystem } from '../support/system.js';

const WIDTHS = [320, 360, 390, 768, 1280];
// The renderer starts later: until then every order stays "preparing".
const { db, s3, http, baseUrl, adminToken, staffToken } = await startWholeSystem(t, { renderer: false });
const browser = await launchBrowser(t);
const admin = { authorization: `Bearer ${adminToken}` };

async function setProduct(productId: string, total: number, name: string) {
  const response = await http.request(`/api/admin/products/${productId}`, {
    method: 'PUT',
    headers: admin,
    body: { total, name },
  });
  if (![200, 201].includes(response.status)) throw new Error(`${productId}: ${response.status}`);
}

// Names as long as people write them (and one without a space to break at), nine-digit totals.
const LONG_NAME = 'Kesäpäivän perhelippu Linnanmäelle: neljä henkilöä, pysäköinti ja lounas';
await setProduct('default', 500, LONG_NAME);
await setProduct('sold-out', 0, 'Loppuunmyyty tuote');
await setProduct('unbroken', 999_999_999, 'Rautatieasemanravintolanpäällikönsijaisenvarahenkilö');
for (let i = 1; i <= 24; i += 1) {
  await setProduct(`product-${String(i).padStart(2, '0')}`, 123_456_789 - i, `Tuote ${i}: ${LONG_NAME}`);
}

/**
 * What does not fit, as the browser lays the page out now. Plain JavaScript in a string: the
 * TypeScript loader would wrap a function's inner helpers in a helper of its own (__name) that
 * the page does not have.
 */
const MISFITS = `(() => {
  const problems = [];
  const width = window.innerWidth;
  const label = (element) => {
    const text = (element.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 40);
    return '<' + element.tagName.toLowerCase() + (element.id ? '#' + element.id : '') + '>' + (text ? ' "' + text + '"' : '');
  };
  const scroll = document.documentElement.scrollWidth;
  if (scroll > width) problems.push('the document is ' + scroll + ' px wide in a ' + width + ' px viewport');
  const controls = document.querySelectorAll('a[href], button, input:not([type="hidden"]), select, textarea');
  for (const control of controls) {
    if (control.closest('.skip, .visually-hidden, [hidden], noscript')) continue;
    const box = control.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (box.left < -1 || box.right > width + 1) {
      problems.push(label(control) + ' is outside the viewport (' + Math.round(box.left) + '-' + Math.round(box.right) + ' px)');
      continue;
    }
    for (let parent = control.parentElement; parent; parent = parent.parentElement) {
      if (getComputedStyle(parent).overflowX === 'visible') continue;
      const room = parent.getBoundingClientRect();
      if (box.left < room.left - 1 || box.right > room.right + 1) {
        problems.push(label(control) + ' is outside the visible part of ' + label(parent));
        break;
      }
    }
  }
  return problems;
})()`;

async function misfits(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(MISFITS);
}

/** Checks the page at every width (re-laid out in place), with a screenshot of each. */
async function atEveryWidth(t: Test, page: Page, label: string) {
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 800 });
    // One frame for the layout to follow the new size.
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => resolve(null))));
    t.same(await misfits(page), [], `${label} at ${width} px: fits, every control in view`);
    await screenshot(page, `screens-${label}-${width}`);
  }
}

t.test('the order form, its errors, and sold out', async (t) => {
  const { page, problems } = await openPage(t, browser);
  await page.goto(`${baseUrl}/`);
  await page.getByRole('heading', { name: LONG_NAME }).waitFor();
  await atEveryWidth(t, page, 'order-form');

  // A fresh page: Playwright's full-page screenshots leave style="" on elements, which htmx
  // then copies in its swap and the CSP (rightly) refuses: a test artefact, not the app's.
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.reload();
  await page.getByLabel('First name').fill('A');
  await page.getByLabel('Phone number').fill('12');
  await page.getByRole('button', { name: 'Reserve' }).click();
  await page.getByText('Please check the fields marked below').waitFor();
  await atEveryWidth(t, page, 'order-form-errors');

  await page.goto(`${baseUrl}/?productId=sold-out`);
  await page.getByRole('heading', { name: 'Out of stock' }).waitFor();
  await atEveryWidth(t, page, 'sold-out');

  await page.goto(`${baseUrl}/orders/no-such-order-0?token=${'x'.repeat(43)}`);
  await atEveryWidth(t, page, 'order-not-found');
  t.same(
    problems.filter((p) => !/ 404$/.test(p)),
    [],
    'no script error or missing asset',
  );
});

const placed = await http.request('/api/orders', {
  body: orderBody({ firstName: 'Screen', lastName: 'Test' }),
});
const { orderId, accessToken } = placed.json as { orderId: string; accessToken: string };
const orderUrl = `${baseUrl}/orders/${orderId}#token=${encodeURIComponent(accessToken)}`;

t.test('the order page: preparing, then ready with its coupon code', async (t) => {
  t.equal(placed.status, 201);
  const { page, problems } = await openPage(t, browser);
  await page.goto(orderUrl);
  await page.getByText('Reserved! Preparing your voucher').waitFor();
  await page.getByRole('heading', { name: LONG_NAME }).waitFor();
  t.match(await page.locator('.order-ref').innerText(), new RegExp(`Order number\\s+${orderId}`));
  await atEveryWidth(t, page, 'order-preparing');

  await startTestRenderer(t, db, s3.env);
  await page.locator('#voucher-link').waitFor({ timeout: 30_000 });
  const { rows } = await db.owner.query<{ coupon_code: string }>(
    'select coupon_code from crs.orders where order_id = $1',
    [orderId],
  );
  const code = rows[0]?.coupon_code ?? '';
  t.equal(
    await page.locator('#coupon-code .coupon-code').innerText(),
    code.replaceAll('-', ' '),
    'the coupon code, in its groups',
  );
  await atEveryWidth(t, page, 'order-ready');

  // Without script the page comes from the server with the token in the query: same page.
  await page.goto(`${baseUrl}/orders/${orderId}?token=${encodeURIComponent(accessToken)}`);
  await page.locator('#coupon-code').waitFor();
  t.equal(await page.locator('h1').innerText(), LONG_NAME);
  t.same(problems, [], 'no script error or missing asset');
});

t.test('staff: sign-in, and the desk with a looked-up code', async (t) => {
  const { page, problems } = await openPage(t, browser);
  await page.goto(`${baseUrl}/staff`);
  await page.getByLabel('Staff token').waitFor();
  await atEveryWidth(t, page, 'staff-sign-in');
  await page.getByLabel('Staff token').fill(staffToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const { rows } = await db.owner.query<{ coupon_code: string }>(
    'select coupon_code from crs.orders where order_id = $1',
    [orderId],
  );
  await page.getByRole('textbox', { name: 'Coupon code' }).fill(rows[0]?.coupon_code ?? '');
  await page.getByRole('button', { name: 'Look up' }).click();
  await page.getByRole('button', { name: 'Redeem' }).waitFor();
  await atEveryWidth(t, page, 'staff-desk');
  t.same(problems, [], 'no script error or missing asset');
});

t.test('admin: sign-in, and the page with many long-named products', async (t) => {
  const { page, problems } = await openPage(t, browser);
  await page.goto(`${baseUrl}/admin`);
  await page.getByLabel('Admin token').waitFor();
  await atEveryWidth(t, page, 'admin-sign-in');
  await page.getByLabel('Admin token').fill(adminToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Stock', exact: true }).waitFor();
  t.equal(await page.locator('#products tbody tr').count(), 25, 'a page of products');
  t.ok(await page.getByRole('link', { name: 'More products' }).isVisible(), 'and a link to the rest');
  await atEveryWidth(t, page, 'admin');
  t.same(problems, [], 'no script error or missing asset');
});
