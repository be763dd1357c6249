/**
 * The web client in a real browser (Chromium) against the whole system on real services:
 * Postgres, CDC into Redis, the renderer into the S3 store, its notifications through
 * RabbitMQ, and the API serving the pages. Each test saves screenshots in test/screenshots/.
 */
import type { Page } from 'playwright-core';
import t, { type Test } from 'tap';
import { orderBody } from '../support/api.js';
import { launchBrowser, openPage, screenshot, type BrowserPage } from '../support/browser.js';
import { startWholeSystem } from '../support/system.js';

const { db, http, baseUrl, adminToken, staffToken } = await startWholeSystem(t);
const admin = { authorization: `Bearer ${adminToken}` };
const browser = await launchBrowser(t);

async function setTotal(productId: string, total: number, name?: string) {
  const response = await http.request(`/api/admin/products/${productId}`, {
    method: 'PUT',
    headers: admin,
    body: { total, ...(name ? { name } : {}) },
  });
  t.ok(response.status === 200 || response.status === 201, `${productId}: total ${total}`);
}

async function orderCount(where = 'true', values: unknown[] = []) {
  const { rows } = await db.owner.query<{ n: number }>(
    `select count(*)::int as n from crs.orders where ${where}`,
    values,
  );
  return rows[0]?.n ?? 0;
}

async function fillOrder(page: Page, customer: { firstName: string; lastName: string; phone: string }) {
  await page.getByLabel('First name').fill(customer.firstName);
  await page.getByLabel('Last name').fill(customer.lastName);
  await page.getByLabel('Phone number').fill(customer.phone);
}

/** No CSP violation, script error or missing asset (the icon included) on the page. */
function cleanConsole(t: Test, opened: BrowserPage) {
  t.same(opened.problems, [], 'no CSP violation, script error or missing asset');
}

/** The page fits the viewport: nothing scrolls sideways. */
async function fitsWidth(t: Test, page: Page) {
  const { scroll, width } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: window.innerWidth,
  }));
  t.ok(scroll <= width, `no sideways scrolling (${scroll} <= ${width})`);
}

t.test('happy path: order, its status, then a working voucher link; a reload finds it', async (t) => {
  for (const viewport of ['desktop', 'phone'] as const) {
    const opened = await openPage(t, browser, { viewport });
    const { page } = opened;
    const response = await page.goto(`${baseUrl}/`);
    t.equal(response?.status(), 200);
    const csp = response?.headers()['content-security-policy'] ?? '';
    t.match(csp, /script-src 'self'/);
    t.notMatch(csp, /unsafe-inline|unsafe-eval/, 'the CSP allows no inline script or style');
    t.match(csp, /frame-ancestors 'none'/);
    t.equal(response?.headers()['x-content-type-options'], 'nosniff');
    await page.getByRole('heading', { name: 'Reserve yours' }).waitFor();
    await fitsWidth(t, page);
    await screenshot(page, `order-page-${viewport}`);

    const customer = orderBody({ firstName: 'Aino', lastName: 'Virtanen' });
    await fillOrder(page, customer);
    await page.getByRole('button', { name: 'Reserve' }).click();
    // "Reserved! Preparing your voucher", or already the voucher: the renderer can finish
    // before a look catches the first state (test/web/screens.test.ts holds it to see both).
    await page.locator('#order-status').waitFor();
    await page.waitForURL(/\/orders\//);
    const url = new URL(page.url());
    t.match(url.pathname, /^\/orders\/[A-Za-z0-9_-]{8,64}$/, 'the address is the order page');
    t.match(url.hash, /^#token=/, 'the token is in the fragment, which no server sees');
    t.equal(url.search, '', 'and not in the query');

    const link = page.locator('#voucher-link');
    await link.waitFor({ timeout: 30_000 });
    await page.getByText('Your voucher is ready').waitFor();
    await fitsWidth(t, page);
    await screenshot(page, `voucher-ready-${viewport}`);
    const href = await link.getAttribute('href');
    t.match(href, /\/voucher\?expires=\d+&signature=/);
    const pdf = await page.request.get(new URL(href ?? '', baseUrl).toString());
    t.equal(pdf.status(), 200);
    t.equal(pdf.headers()['content-type'], 'application/pdf');
    t.equal((await pdf.body()).subarray(0, 5).toString(), '%PDF-');

    // The order survives a reload (fragment), and the product page remembers it (storage).
    await page.reload();
    await page.locator('#voucher-link').waitFor();
    const cookies = await opened.context.cookies();
    t.notOk(
      cookies.some((cookie) => cookie.value.includes(url.hash.slice('#token='.length))),
      'no cookie holds the order token',
    );
    await page.goto(`${baseUrl}/`);
    await page.getByText('You already reserved one on this device').waitFor();
    await page.getByRole('link', { name: 'View your order' }).click();
    await page.locator('#voucher-link').waitFor();
    cleanConsole(t, opened);
  }
});

t.test('validation errors appear next to each field, and nothing is stored', async (t) => {
  const opened = await openPage(t, browser);
  const { page } = opened;
  await page.goto(`${baseUrl}/`);
  const before = await orderCount();
  await fillOrder(page, { firstName: '', lastName: 'Virtanen', phone: '12345' });
  await page.getByRole('button', { name: 'Reserve' }).click();
  await page.locator('#firstName-error').waitFor();
  t.match(await page.locator('#firstName-error').innerText(), /First name (is required|must not be empty)/);
  t.match(await page.locator('#phone-error').innerText(), /Phone number is not a valid phone number/);
  t.equal(await page.locator('#lastName-error').count(), 0, 'a valid field has no error');
  t.equal(await page.getByLabel('First name').getAttribute('aria-invalid'), 'true');
  t.match(
    await page.getByLabel('Phone number').getAttribute('aria-describedby'),
    /phone-error/,
    'the error is tied to its field for screen readers',
  );
  t.equal(await page.getByLabel('Last name').inputValue(), 'Virtanen', 'what was typed is kept');
  t.equal(await orderCount(), before, 'no order was stored');
  await screenshot(page, 'validation-errors-desktop');
  cleanConsole(t, opened);
});

t.test('sold out while the page is open: the form gives way to the notice, and comes back', async (t) => {
  await setTotal('flash', 3, 'Flash sale lamp');
  for (const viewport of ['desktop', 'phone'] as const) {
    const opened = await openPage(t, browser, { viewport });
    const { page } = opened;
    await page.goto(`${baseUrl}/?productId=flash`);
    await page.getByRole('button', { name: 'Reserve' }).waitFor();
    // A marker that a reload would wipe.
    await page.evaluate(() => Object.assign(window, { notReloaded: true }));

    await setTotal('flash', 0);
    await page.locator('#sold-out').waitFor({ state: 'visible' });
    t.equal(await page.locator('#order-form-area').isHidden(), true, 'the form is hidden');
    t.equal(await page.locator('[data-remaining]').innerText(), '0');
    t.equal(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded), true);
    await fitsWidth(t, page);
    await screenshot(page, `sold-out-${viewport}`);

    await setTotal('flash', 3);
    await page.getByRole('button', { name: 'Reserve' }).waitFor({ state: 'visible' });
    t.equal(await page.locator('#sold-out').isHidden(), true, 'the form is back');
    t.equal(await page.locator('[data-remaining]').innerText(), '3');
    t.equal(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded), true);
    cleanConsole(t, opened);
  }
});

t.test('a customer who already ordered gets a clear message', async (t) => {
  const customer = orderBody();
  t.equal((await http.request('/api/orders', { body: customer })).status, 201);
  const opened = await openPage(t, browser);
  const { page } = opened;
  await page.goto(`${baseUrl}/`);
  await fillOrder(page, customer);
  await page.getByRole('button', { name: 'Reserve' }).click();
  const alert = page.locator('#form-error');
  await alert.waitFor();
  t.match(await alert.innerText(), /already has a reservation/);
  t.equal(await orderCount('phone = $1', [customer.phone.replaceAll(' ', '')]), 1, 'still one order');
  await screenshot(page, 'duplicate-customer-desktop');
  cleanConsole(t, opened);
});

t.test('a double click places one order', async (t) => {
  const opened = await openPage(t, browser);
  const { page } = opened;
  await page.goto(`${baseUrl}/`);
  const customer = orderBody({ firstName: 'Double', lastName: 'Click' });
  await fillOrder(page, customer);
  await page.getByRole('button', { name: 'Reserve' }).dblclick();
  await page.locator('#order-status').waitFor();
  t.equal(await orderCount("first_name = 'Double'"), 1);
  cleanConsole(t, opened);
});

t.test('keyboard only: tab to each field, type, Enter, then tab to the voucher link', async (t) => {
  const opened = await openPage(t, browser);
  const { page } = opened;
  await page.goto(`${baseUrl}/`);
  const focusedId = () => page.evaluate(() => document.activeElement?.id ?? '');
  const tabTo = async (id: string) => {
    for (let i = 0; i < 20 && (await focusedId()) !== id; i += 1) await page.keyboard.press('Tab');
    t.equal(await focusedId(), id, `Tab reaches #${id}`);
  };
  const customer = orderBody({ firstName: 'Keyboard', lastName: 'Only' });
  await tabTo('firstName');
  await page.keyboard.type(customer.firstName);
  await page.keyboard.press('Tab');
  t.equal(await focusedId(), 'lastName', 'the next Tab is the next field');
  await page.keyboard.type(customer.lastName);
  await page.keyboard.press('Tab');
  t.equal(await focusedId(), 'phone');
  await page.keyboard.type(customer.phone);
  await page.keyboard.press('Enter');
  // The status is in at htmx's swap: "Reserved! Preparing your voucher", or already the voucher
  // (the renderer can finish before a look catches the first state, more so on a loaded
  // machine, where looks come further apart).
  await page.locator('#order-status').waitFor();
  // The text is in at htmx's swap; the focus moves once it settles (a few ms later). Read it
  // in that same look: the voucher can be ready at once, and while its status is swapped in
  // (replacing the focused one) the focus is on the page for a moment before it moves again.
  const focusedNews = await page
    .waitForFunction(() => document.activeElement?.id === 'order-status', null, { timeout: 5_000 })
    .then(
      () => true,
      () => false,
    );
  t.ok(focusedNews, 'focus moves to the news');
  await page.locator('#voucher-link').waitFor({ timeout: 30_000 });
  await tabTo('voucher-link');
  const [download] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
  t.match(download.suggestedFilename(), /^voucher-.*\.pdf$/, 'Enter on the link downloads the voucher');
  t.equal(await orderCount("first_name = 'Keyboard'"), 1);
  cleanConsole(t, opened);
});

t.test('without JavaScript: a plain form post, a redirect, and the voucher on the order page', async (t) => {
  const { page } = await openPage(t, browser, { javaScriptEnabled: false });
  await page.goto(`${baseUrl}/`);
  const customer = orderBody({ firstName: 'No', lastName: 'Script' });
  await fillOrder(page, customer);
  await page.getByRole('button', { name: 'Reserve' }).click();
  await page.waitForURL(/\/orders\/[A-Za-z0-9_-]+\?token=/);
  // "Preparing", or already the link: the renderer may have been that fast.
  await page.locator('#order-status').waitFor();
  let ready = false;
  for (let i = 0; i < 60 && !ready; i += 1) {
    await page.waitForTimeout(500);
    await page.reload();
    ready = (await page.locator('#voucher-link').count()) > 0;
  }
  t.ok(ready, 'reloading the order page shows the voucher link');
  await screenshot(page, 'no-script-voucher-ready-desktop');
});

t.test('staff sign in, look up a code, redeem it once; a second redeem is refused', async (t) => {
  const placed = await http.request('/api/orders', {
    body: orderBody({ firstName: 'Staff', lastName: 'Test' }),
  });
  t.equal(placed.status, 201);
  const { rows } = await db.owner.query<{ coupon_code: string }>(
    'select coupon_code from crs.orders where order_id = $1',
    [placed.json.orderId],
  );
  const code = rows[0]?.coupon_code ?? '';
  const typed = code.toLowerCase().replace(/(.{6})(?=.)/g, '$1 '); // any case, any grouping

  const desks: Page[] = [];
  for (const viewport of ['desktop', 'phone'] as const) {
    const opened = await openPage(t, browser, { viewport });
    const { page } = opened;
    await page.goto(`${baseUrl}/staff`);
    await page.getByLabel('Staff token').fill('not the token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That token is not right').waitFor();
    await page.getByLabel('Staff token').fill(staffToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Look up a coupon code' }).waitFor();
    await page.getByRole('textbox', { name: 'Coupon code' }).fill(typed);
    await page.getByRole('button', { name: 'Look up' }).click();
    await page.getByRole('button', { name: 'Redeem' }).waitFor();
    await fitsWidth(t, page);
    await screenshot(page, `staff-page-${viewport}`);
    desks.push(page);
    cleanConsole(t, opened);
  }
  const [first, second] = desks as [Page, Page];
  await first.getByRole('button', { name: 'Redeem' }).click();
  await first.getByText(/Redeemed on .*Hand over the product/).waitFor();
  await screenshot(first, 'staff-redeemed-desktop');
  // The other desk still shows the button: its redeem is refused.
  await second.getByRole('button', { name: 'Redeem' }).click();
  await second.getByText(/Refused: already redeemed/).waitFor();
  await screenshot(second, 'staff-refused-phone');
  const { rows: after } = await db.owner.query<{ status: string }>(
    'select status from crs.orders where order_id = $1',
    [placed.json.orderId],
  );
  t.equal(after[0]?.status, 'redeemed');
});

t.test('admin sees stock and orders and changes the total', async (t) => {
  await setTotal('admin-page', 10, 'Admin page product');
  t.equal(
    (await http.request('/api/orders', { body: orderBody({ productId: 'admin-page', firstName: 'Listed' }) }))
      .status,
    201,
  );
  for (const viewport of ['desktop', 'phone'] as const) {
    const opened = await openPage(t, browser, { viewport });
    const { page } = opened;
    await page.goto(`${baseUrl}/admin?productId=admin-page`);
    await page.getByLabel('Admin token').fill(adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Stock', exact: true }).waitFor();
    t.match(await page.locator('#orders-heading').innerText(), /Admin page product/);
    t.match(
      await page.locator('section[aria-labelledby="orders-heading"] table').innerText(),
      /Listed V\. \(…\d{3}\)/,
      'orders, shortened',
    );
    t.match(await page.locator('#audit table').innerText(), /Stock change/, 'the audit trail is shown');
    const total = page.getByLabel('New total: Admin page product');
    await total.fill('0');
    await total.press('Enter');
    await page.getByText('cannot go below the 1 already reserved').waitFor();
    await total.fill(viewport === 'desktop' ? '20' : '25');
    await page
      .getByRole('row', { name: /Admin page product/ })
      .getByRole('button', { name: 'Save' })
      .click();
    await page.getByText(`admin-page: total set to ${viewport === 'desktop' ? 20 : 25}`).waitFor();
    await fitsWidth(t, page);
    await screenshot(page, `admin-page-${viewport}`);
    cleanConsole(t, opened);
  }
  const { rows } = await db.owner.query<{ total: number }>(
    "select total from crs.products where product_id = 'admin-page'",
  );
  t.equal(rows[0]?.total, 25);
});
