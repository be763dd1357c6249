/**
 * The audit trail in SQL (sql/audit.sql): crs.upsert_product and crs.redeem_voucher record
 * who, when and what in crs.audit_log, in the same transaction as the change, refusals
 * included; a malformed actor refuses the change; crs.read_audit_log pages newest first.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { makeTestDatabase } from '../support/database.js';

const db = await makeTestDatabase(t);
const api = db.pool('api');

const admin = {
  role: 'admin',
  id: 'token:0123456789ab',
  address: '192.0.2.7',
  requestId: 'req-audit-1',
};
const staff = { role: 'staff', id: 'token:ba9876543210', address: '2001:db8::5' };

interface Entry {
  id: string;
  at: Date;
  actor_role: string;
  actor_id: string;
  client_address: string | null;
  request_id: string | null;
  session_id: string | null;
  db_user: string;
  action: string;
  subject: string;
  details: Record<string, unknown>;
}

async function entries(limit = 500, before: string | null = null): Promise<Entry[]> {
  return (await api.query<Entry>('select * from crs.read_audit_log($1, $2)', [limit, before])).rows;
}
const latest = async () => (await entries(1))[0];

async function setStock(productId: string, total: number, actor: unknown = admin) {
  const { rows } = await api.query('select * from crs.upsert_product($1, $2, $3, $4)', [
    productId,
    'Audited',
    total,
    actor,
  ]);
  return rows[0];
}

t.test('crs migrate created the default product as the system actor', async (t) => {
  const seeded = (await entries()).find((e) => e.subject === 'default');
  t.match(seeded, {
    actor_role: 'system',
    actor_id: 'crs-migrate',
    db_user: 'crs_owner',
    action: 'stock_set',
    details: { outcome: 'created', after: { total: Number } },
  });
});

t.test('a stock change records who, when and what, before and after', async (t) => {
  const started = new Date();
  t.equal((await setStock('audited', 10)).outcome, 'created');
  t.match(await latest(), {
    actor_role: 'admin',
    actor_id: 'token:0123456789ab',
    client_address: '192.0.2.7',
    request_id: 'req-audit-1',
    session_id: null,
    db_user: 'crs_api',
    action: 'stock_set',
    subject: 'audited',
    details: {
      outcome: 'created',
      requested: { name: 'Audited', total: 10 },
      before: null,
      after: { total: 10, remaining: 10, reserved: 0 },
    },
  });
  t.ok((await latest())!.at.getTime() >= started.getTime() - 1000, 'when: now');

  const placed = await api.query('select * from crs.place_order($1, $2, $3, $4, $5, $6, $7, $8)', [
    'audit-order-1',
    'audited',
    '+358407770001',
    'Aino',
    'Virtanen',
    '+358407770001',
    randomBytes(32),
    randomBytes(16),
  ]);
  t.equal(placed.rows[0].outcome, 'reserved');
  const count = (await entries()).length;
  t.equal(count, 2, 'orders write no audit entries (the seed and the change above)');

  t.equal((await setStock('audited', 25)).outcome, 'updated');
  t.match((await latest())?.details, {
    outcome: 'updated',
    before: { total: 10, remaining: 9, reserved: 1 },
    after: { total: 25, remaining: 24, reserved: 1 },
  });
});

t.test('a refused change is recorded, with the stock unchanged', async (t) => {
  const result = await setStock('audited', 0, { ...admin, requestId: 'req-audit-2' });
  t.equal(result.outcome, 'below_reserved');
  t.match(await latest(), {
    request_id: 'req-audit-2',
    subject: 'audited',
    details: {
      outcome: 'below_reserved',
      requested: { total: 0 },
      before: { total: 25, reserved: 1 },
      after: { total: 25, reserved: 1 },
    },
  });
  const { rows } = await db.owner.query(`select total from crs.products where product_id = 'audited'`);
  t.equal(rows[0].total, 25);
});

t.test('a malformed actor refuses the change itself: nothing changes without its entry', async (t) => {
  const before = (await entries()).length;
  for (const actor of [
    { ...admin, password: 'x' },
    { ...admin, address: 'not-an-address' },
    { ...admin, role: 'root' },
    { ...admin, id: '' },
    { role: 'admin' },
    ['admin'],
  ]) {
    const failed = await setStock('audited', 3, actor).then(
      () => 'ok',
      (err: { code: string }) => err.code,
    );
    t.match(failed, /^(22023|22P02|23514|23502)$/, `refused: ${JSON.stringify(actor)}`);
  }
  t.equal((await entries()).length, before, 'no entry');
  const { rows } = await db.owner.query(`select total from crs.products where product_id = 'audited'`);
  t.equal(rows[0].total, 25, 'and no change');
});

t.test('callers that name no actor (scripts, tests) are recorded as their database login', async (t) => {
  await db.owner.query(`select crs.upsert_product('audited', null, 30)`);
  t.match(await latest(), {
    actor_role: 'system',
    actor_id: 'crs_owner',
    db_user: 'crs_owner',
    client_address: null,
    details: { outcome: 'updated' },
  });
});

t.test('every redemption attempt is recorded with its outcome', async (t) => {
  const { rows } = await db.owner.query(
    `select coupon_code from crs.orders where order_id = 'audit-order-1'`,
  );
  const code = rows[0].coupon_code as string;
  const redeem = async (c: string) =>
    (await api.query('select * from crs.redeem_voucher($1, $2, $3)', [c, 'staff', staff])).rows[0]?.outcome;
  t.equal(await redeem(code), 'redeemed');
  t.equal(await redeem(code), 'already_redeemed');
  t.equal(await redeem('ZZZZZZ-ZZZZZZ-ZZZZZZ'), 'not_found');
  const [unknown, again, first] = await entries(3);
  t.match(first, {
    actor_role: 'staff',
    actor_id: 'token:ba9876543210',
    client_address: '2001:db8::5',
    action: 'redeem',
    subject: code,
    details: {
      outcome: 'redeemed',
      orderId: 'audit-order-1',
      productId: 'audited',
      statusBefore: 'reserved',
      redeemedAt: String,
      redeemedBy: 'staff',
    },
  });
  t.match(again?.details, {
    outcome: 'already_redeemed',
    orderId: 'audit-order-1',
    statusBefore: 'redeemed',
  });
  t.match(unknown, { subject: 'ZZZZZZ-ZZZZZZ-ZZZZZZ', details: { outcome: 'not_found', orderId: null } });
});

t.test('read_audit_log pages newest first', async (t) => {
  const all = await entries();
  t.ok(all.length >= 8);
  t.same(
    all.map((e) => Number(e.id)),
    all.map((e) => Number(e.id)).sort((a, b) => b - a),
    'newest first',
  );
  const first = await entries(3);
  const second = await entries(3, first[2]!.id);
  t.same(
    [...first, ...second].map((e) => e.id),
    all.slice(0, 6).map((e) => e.id),
    'before = the last id of the previous page',
  );
  t.equal((await entries(100_000)).length, Math.min(all.length, 500), 'at most 500 at once');
});
