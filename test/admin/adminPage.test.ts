/**
 * The admin page at work: search finds an order by each key (its id, its coupon code in any
 * form, the phone in any format, part of the name); orders and the audit trail come a page at a
 * time with nothing missed or repeated; the CSV export holds every order, with its details and
 * safe for spreadsheets; a malformed page address is a 400.
 */
import t from 'tap';
import { makeTestDatabase } from '../support/database.js';
import { orderBody, startTestApi } from '../support/api.js';
import { adminCookie } from '../support/adminSession.js';

const db = await makeTestDatabase(t);
const live = await startTestApi(t, db);
const { http } = live;
const admin = { authorization: `Bearer ${live.adminToken}` };
await http.request('/api/admin/products/admin-paging', {
  method: 'PUT',
  headers: admin,
  body: { total: 500 },
});

// 120 orders; one with a name a spreadsheet would run as a formula.
const placed: { orderId: string; phone: string }[] = [];
for (let i = 0; i < 120; i += 1) {
  const body = orderBody({
    productId: 'admin-paging',
    firstName: i === 7 ? '=HYPERLINK("x")' : `Paging${i}`,
    lastName: i === 8 ? 'Ylönen-Söderström' : 'Tester',
  });
  const res = await http.request('/api/orders', { body });
  if (res.status !== 201) throw new Error(`order ${i}: ${res.status} ${res.text}`);
  placed.push({ orderId: res.json.orderId, phone: body.phone });
}
const cookie = await adminCookie(http, live.adminToken);
const get = (path: string) => http.request(path, { headers: { cookie } });
const orderIdsIn = (text: string, section: string) => {
  const part = text.split(`id="${section}"`)[1]?.split('</section>')[0] ?? '';
  return [...part.matchAll(/data-order-id="([A-Za-z0-9_-]{8,64})"/g)].map((m) => m[1]!);
};

t.test('search finds an order by its id, coupon code, phone or part of its name', async (t) => {
  const target = placed[8]!;
  const { rows } = await db.owner.query('select coupon_code from crs.orders where order_id = $1', [
    target.orderId,
  ]);
  const code = String(rows[0]?.coupon_code);
  const national = target.phone.replace('+358 ', '0'); // 040 ..., as a customer says it
  for (const [key, query] of [
    ['order id', target.orderId],
    ['coupon code, lower case without dashes', code.toLowerCase().replaceAll('-', '')],
    ['phone, national format', national],
    ['part of the name, any case', 'ylönen-SÖDER'],
  ] as const) {
    const page = await get(`/admin?productId=admin-paging&q=${encodeURIComponent(query)}`);
    t.equal(page.status, 200);
    t.same(orderIdsIn(page.text, 'search'), [target.orderId], `by ${key}`);
  }
  const many = await get('/admin?q=paging1');
  t.equal(orderIdsIn(many.text, 'search').length, 31, 'Paging1, Paging10..19, Paging100..119');
  const none = await get('/admin?q=%25%25%25');
  t.match(none.text, /Nothing found for “%%%”/, 'LIKE characters are literal');
  t.same(orderIdsIn(none.text, 'search'), []);
});

t.test('orders come a page at a time, newest first, none missed or repeated', async (t) => {
  const seen: string[] = [];
  let path: string | undefined = '/admin?productId=admin-paging';
  let pages = 0;
  while (path) {
    const page = await get(path);
    t.equal(page.status, 200, path);
    seen.push(...orderIdsIn(page.text, 'orders'));
    pages += 1;
    const older = /<a class="button secondary" href="([^"]+)">Older orders<\/a>/.exec(page.text)?.[1];
    path = older?.replaceAll('&amp;', '&');
  }
  t.equal(pages, 3, '50 + 50 + 20');
  t.same([...seen].sort(), placed.map((p) => p.orderId).sort(), 'every order exactly once');
  t.same(
    seen,
    [...placed].reverse().map((p) => p.orderId),
    'newest first',
  );
});

t.test('the audit trail comes a page at a time', async (t) => {
  for (let total = 501; total <= 530; total += 1) {
    await http.request('/api/admin/products/admin-paging', {
      method: 'PUT',
      headers: admin,
      body: { total },
    });
  }
  const first = await get('/admin?productId=admin-paging');
  const ids = (text: string) => [...text.matchAll(/data-audit-id="(\d+)"/g)].map((m) => Number(m[1]));
  const older = /href="([^"]+)">Older entries<\/a>/.exec(first.text)?.[1]?.replaceAll('&amp;', '&') ?? '';
  const second = await get(older);
  t.equal(ids(first.text).length, 20);
  t.ok(Math.min(...ids(first.text)) > Math.max(...ids(second.text)), 'the next page is older, no overlap');
  t.match(second.text, />Newest entries<\/a>/);
});

t.test('the CSV export has every order with its details, safe for spreadsheets', async (t) => {
  const csv = await get('/admin/products/admin-paging/orders.csv');
  t.equal(csv.status, 200);
  t.match(String(csv.headers['content-type']), /^text\/csv/);
  t.match(String(csv.headers['content-disposition']), /attachment; filename="orders-admin-paging.csv"/);
  const lines = csv.text.trimEnd().split('\r\n');
  t.equal(
    lines[0],
    'order_id,status,first_name,last_name,phone,coupon_code,created_at,voucher_stored_at,redeemed_at',
  );
  t.equal(lines.length, 121, 'a header and 120 orders');
  t.same(
    // An order id is the client's choice: one starting with - is quoted as text too.
    lines.slice(1).map((line) => line.split(',')[0]?.replace(/^'/, '')),
    placed.map((p) => p.orderId),
    'oldest first',
  );
  t.ok(
    lines.includes(lines.find((l) => l.includes(`"'=HYPERLINK(""x"")"`)) ?? '!'),
    'a formula is quoted as text',
  );
  t.notOk(csv.text.includes(',=HYPERLINK'), 'never a bare formula');
  const signedOut = await http.request('/admin/products/admin-paging/orders.csv');
  t.equal(signedOut.status, 401, 'only for a signed-in admin');
  t.notMatch(signedOut.text, /Paging/);
  t.equal((await get('/admin/products/no-such-product/orders.csv')).status, 404);
});

t.test('a malformed page address is refused, naming the field', async (t) => {
  for (const query of [
    'beforeAt=yesterday&beforeOrder=abcdefgh',
    'beforeAt=2026-12-06 10:00:00%2B00',
    'auditBefore=-1',
  ]) {
    const page = await get(`/admin?${query}`);
    t.equal(page.status, 400, query);
  }
});

t.test('products come 25 at a time; a change answers with its own page', async (t) => {
  for (let i = 0; i < 30; i += 1) {
    await http.request(`/api/admin/products/many-${String(i).padStart(2, '0')}`, {
      method: 'PUT',
      headers: admin,
      body: { total: 10 },
    });
  }
  const { rows } = await db.owner.query<{ n: number }>('select count(*)::int as n from crs.products');
  const ids = (text: string) =>
    [
      ...(text.split('id="products"')[1]?.split('</section>')[0] ?? '').matchAll(
        /id="total-([A-Za-z0-9_-]+)"/g,
      ),
    ].map((m) => m[1]!);
  const first = await get('/admin');
  const more = /href="([^"]+)">More products<\/a>/.exec(first.text)?.[1]?.replaceAll('&amp;', '&') ?? '';
  const second = await get(more);
  t.equal(ids(first.text).length, 25);
  t.same(
    [...ids(first.text), ...ids(second.text)].length,
    rows[0]!.n,
    'every product on one page or the other',
  );
  t.equal(new Set([...ids(first.text), ...ids(second.text)]).size, rows[0]!.n, 'none twice');
  t.match(second.text, />First products<\/a>/);

  // Saving a total on the second page (htmx) answers with the second page.
  const onSecond = ids(second.text)[0]!;
  const csrf = /name="_csrf" value="([^"]+)"/.exec(second.text)?.[1] ?? '';
  const after = /name="productsAfter" value="([^"]*)"/.exec(second.text)?.[1] ?? '';
  const saved = await http.request(`/admin/products/${onSecond}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, 'hx-request': 'true' },
    body: new URLSearchParams({ _csrf: csrf, total: '12', productsAfter: after }).toString(),
  });
  t.equal(saved.status, 200);
  t.same(ids(saved.text), ids(second.text), 'the same page of products');
  t.equal((await get('/admin?productsAfter=no%20way')).status, 400);
});
