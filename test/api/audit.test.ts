/**
 * The audit trail over HTTP: stock changes and redemptions through the API and the pages are
 * recorded with who (role, token fingerprint, address, request id, page session), and read
 * back through GET /api/admin/audit (admin token) and on the admin page.
 */
import t from 'tap';
import { tokenFingerprint } from '../../api/admin/auditActor.js';
import { makeTestDatabase } from '../support/database.js';
import { orderBody, startTestApi } from '../support/api.js';

const db = await makeTestDatabase(t);
const { http, adminToken, staffToken } = await startTestApi(t, db);
const admin = { authorization: `Bearer ${adminToken}` };
const staff = { authorization: `Bearer ${staffToken}` };
const FORM = 'application/x-www-form-urlencoded';

const audit = async (query = '') => http.request(`/api/admin/audit${query}`, { headers: admin });

async function couponOf(orderId: string) {
  const { rows } = await db.owner.query<{ coupon_code: string }>(
    'select coupon_code from crs.orders where order_id = $1',
    [orderId],
  );
  return rows[0]?.coupon_code ?? '';
}

/** Signs in on a role's page; the cookie header and CSRF token of that browser. */
async function signIn(role: 'admin' | 'staff', token: string) {
  const page = await http.request(`/${role}`, { headers: { accept: 'text/html' } });
  const cookie = ([] as string[])
    .concat(page.headers['set-cookie'] ?? [])
    .map((c) => c.split(';')[0])
    .join('; ');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? '';
  const signedIn = await http.request(`/${role}/sign-in`, {
    method: 'POST',
    headers: { 'content-type': FORM, cookie },
    body: new URLSearchParams({ token, _csrf: csrf }).toString(),
  });
  const session = String(signedIn.headers['set-cookie']).split(';')[0];
  return { cookie: `${cookie}; ${session}`, csrf };
}

t.test('API stock changes and redemptions are recorded with who, when and what', async (t) => {
  const put = await http.request('/api/admin/products/audit-api', {
    method: 'PUT',
    headers: { ...admin, 'x-request-id': 'audit-req-0001' },
    body: { name: 'Audit', total: 2 },
  });
  t.equal(put.status, 201);
  const placed = await http.request('/api/orders', { body: orderBody({ productId: 'audit-api' }) });
  t.equal(placed.status, 201);
  const refused = await http.request('/api/admin/products/audit-api', {
    method: 'PUT',
    headers: admin,
    body: { total: 0 },
  });
  t.equal(refused.status, 409);

  const code = await couponOf(placed.json.orderId);
  const redeemPath = `/api/vouchers/${code}/redeem`;
  t.equal((await http.request(redeemPath, { method: 'POST', headers: staff })).status, 200);
  t.equal((await http.request(redeemPath, { method: 'POST', headers: staff })).status, 409);

  const res = await audit();
  t.equal(res.status, 200);
  t.equal(res.headers['cache-control'], 'no-store');
  const [again, redeemed, refusal, created] = res.json.entries;
  t.match(created, {
    id: Number,
    at: String,
    actor: {
      role: 'admin',
      id: tokenFingerprint(adminToken),
      address: /127\.0\.0\.1$/,
      requestId: 'audit-req-0001',
      dbUser: 'crs_api',
    },
    action: 'stock_set',
    subject: 'audit-api',
    details: { outcome: 'created', after: { total: 2 } },
  });
  t.ok(Math.abs(Date.parse(created.at) - Date.now()) < 60_000, 'when: just now');
  t.match(refusal, {
    actor: { role: 'admin' },
    details: { outcome: 'below_reserved', requested: { total: 0 }, before: { total: 2, reserved: 1 } },
  });
  t.match(redeemed, {
    actor: { role: 'staff', id: tokenFingerprint(staffToken) },
    action: 'redeem',
    subject: code,
    details: { outcome: 'redeemed', orderId: placed.json.orderId },
  });
  t.match(again, { details: { outcome: 'already_redeemed' } });
  t.notOk(created.actor.session, 'no page session for API calls');
  t.notMatch(res.text, adminToken, 'no token in the trail');
  t.notMatch(res.text, staffToken, 'no token in the trail');
});

t.test('the trail is read with the admin token only, in pages', async (t) => {
  t.equal((await http.request('/api/admin/audit')).status, 401);
  t.equal((await http.request('/api/admin/audit', { headers: staff })).status, 401, 'staff may not');
  for (const query of ['?limit=0', '?limit=501', '?limit=x', '?before=-1', '?limit=1&limit=2', '?other=1']) {
    const bad = await audit(query);
    t.equal(bad.status, 400, query);
    t.equal(bad.json.error.code, 'invalid_request', query);
  }
  const all = (await audit()).json.entries as { id: number }[];
  const first = await audit('?limit=2');
  t.equal(first.json.entries.length, 2);
  t.equal(first.json.nextBefore, first.json.entries[1].id);
  const second = await audit(`?limit=2&before=${first.json.nextBefore}`);
  t.same(
    [...first.json.entries, ...second.json.entries].map((e: { id: number }) => e.id),
    all.slice(0, 4).map((e) => e.id),
  );
  const rest = await audit(`?before=${first.json.nextBefore}`);
  t.equal(rest.json.nextBefore, undefined, 'no next page after the last');
});

t.test('page changes are recorded with the page session, and the admin page shows the trail', async (t) => {
  await http.request('/api/admin/products/audit-page', { method: 'PUT', headers: admin, body: { total: 3 } });
  const placed = await http.request('/api/orders', { body: orderBody({ productId: 'audit-page' }) });
  const code = await couponOf(placed.json.orderId);

  const desk = await signIn('staff', staffToken);
  const redeemed = await http.request('/staff/redeem', {
    method: 'POST',
    headers: { 'content-type': FORM, cookie: desk.cookie },
    body: new URLSearchParams({ code, _csrf: desk.csrf }).toString(),
  });
  t.equal(redeemed.status, 200);
  const adminPage = await signIn('admin', adminToken);
  const changed = await http.request('/admin/products/audit-page', {
    method: 'POST',
    headers: { 'content-type': FORM, cookie: adminPage.cookie },
    body: new URLSearchParams({ total: '7', _csrf: adminPage.csrf }).toString(),
  });
  t.equal(changed.status, 200);

  const [stockSet, redemption] = (await audit('?limit=2')).json.entries;
  t.match(stockSet, {
    actor: { role: 'admin', id: tokenFingerprint(adminToken), session: /^[0-9a-f]{16}$/ },
    subject: 'audit-page',
    details: { outcome: 'updated', before: { total: 3 }, after: { total: 7 } },
  });
  t.match(redemption, {
    actor: { role: 'staff', session: /^[0-9a-f]{16}$/ },
    subject: code,
    details: { outcome: 'redeemed' },
  });
  t.not(stockSet.actor.session, redemption.actor.session, 'one fingerprint per session');

  // An entry with markup in it (written directly, as only the owner can) is shown as text.
  await db.owner.query(
    `insert into crs.audit_log (actor_role, actor_id, action, subject, details)
     values ('system', 'test', 'stock_set', '<script>alert(1)</script>', '{"outcome": "<b>x</b>"}')`,
  );
  const page = await http.request('/admin?productId=audit-page', { headers: { cookie: adminPage.cookie } });
  t.equal(page.status, 200);
  t.match(page.text, /<h2 id="audit-heading">Audit trail<\/h2>/);
  t.match(page.text, new RegExp(`<code>${code}</code>`), 'the redemption is listed');
  t.match(page.text, /total 3 → 7/, 'with what changed');
  t.match(page.text, new RegExp(tokenFingerprint(adminToken)), 'and who');
  t.match(page.text, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/, 'escaped');
  t.notMatch(page.text, /<script>alert/, 'never as markup');
  t.notMatch(page.text, /<b>x<\/b>/);
});

t.test('behind a proxy, the forwarded address is recorded, and a malformed one left out', async (t) => {
  const proxied = await startTestApi(t, db, { TRUST_PROXY: 'on' });
  const headers = { authorization: `Bearer ${proxied.adminToken}` };
  const put = (forwarded: string, total: number) =>
    proxied.http.request('/api/admin/products/audit-proxy', {
      method: 'PUT',
      headers: { ...headers, 'x-forwarded-for': forwarded },
      body: { total },
    });
  t.equal((await put('198.51.100.9', 1)).status, 201);
  t.equal((await put('not-an-address', 2)).status, 200, 'the change is not refused for it');
  const [garbled, forwarded] = (await proxied.http.request('/api/admin/audit?limit=2', { headers })).json
    .entries;
  t.equal(forwarded.actor.address, '198.51.100.9');
  t.equal(garbled.actor.address, undefined);
  t.equal(garbled.actor.id, tokenFingerprint(proxied.adminToken), 'another token, another fingerprint');
  t.not(garbled.actor.id, tokenFingerprint(adminToken));
});
