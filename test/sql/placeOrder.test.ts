/**
 * crs.place_order and its coupon codes, called directly as the API role.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { makeTestDatabase } from '../support/database.js';
import { checkSymbol, normaliseCouponCode } from '../../common/identifiers.js';

const db = await makeTestDatabase(t);
const api = db.pool('api');

await db.owner.query(`select crs.upsert_product('sql-test', 'SQL test', 100)`);

let counter = 0;
async function place(
  overrides: Partial<Record<'orderId' | 'productId' | 'customer' | 'first', string>> = {},
  pool = api,
) {
  counter += 1;
  const customer = overrides.customer ?? `+35840${String(5_000_000 + counter)}`;
  const { rows } = await pool.query('select * from crs.place_order($1, $2, $3, $4, $5, $6, $7, $8)', [
    overrides.orderId ?? `sql-order-${counter}`,
    overrides.productId ?? 'sql-test',
    customer,
    overrides.first ?? 'Aino',
    'Virtanen',
    customer,
    randomBytes(32),
    randomBytes(16),
  ]);
  return rows[0];
}

t.test('outcomes', async (t) => {
  t.equal((await place({ orderId: 'outcome-000001', customer: '+358401000001' })).outcome, 'reserved');
  t.equal((await place({ orderId: 'outcome-000001', customer: '+358401000001' })).outcome, 'replay');
  t.equal(
    (await place({ orderId: 'outcome-000001', customer: '+358401000001', first: 'X' })).outcome,
    'order_id_conflict',
  );
  t.equal(
    (await place({ orderId: 'outcome-000002', customer: '+358401000001' })).outcome,
    'duplicate_customer',
  );
  t.equal((await place({ productId: 'no-such-product' })).outcome, 'unknown_product');
  await db.owner.query(`select crs.upsert_product('sold-out', 'Sold out', 0)`);
  t.equal((await place({ productId: 'sold-out' })).outcome, 'out_of_stock');
});

t.test('refusals write nothing', async (t) => {
  const { rows } = await db.owner.query(
    `select count(*)::int as n, (select sum(remaining)::int from crs.stock_shards where product_id = 'sql-test') as remaining
       from crs.orders where product_id = 'sql-test'`,
  );
  t.same(rows[0], { n: 1, remaining: 99 });
});

t.test('coupon codes: readable, checked, unique, and the same check in SQL and TypeScript', async (t) => {
  const { rows } = await db.owner.query<{ code: string }>(
    'select crs.new_coupon_code() as code from generate_series(1, 2000)',
  );
  const codes = rows.map((r) => r.code);
  t.equal(new Set(codes).size, codes.length, 'no repeats in 2,000');
  for (const code of codes) {
    if (!/^[0-9A-HJKMNP-TV-Z]{6}-[0-9A-HJKMNP-TV-Z]{6}-[0-9A-HJKMNP-TV-Z]{6}$/.test(code)) {
      t.fail(`bad format: ${code}`);
    }
    if (normaliseCouponCode(code) !== code) t.fail(`check symbol disagrees: ${code}`);
  }
  const sample = codes[0] as string;
  t.equal(normaliseCouponCode(sample.toLowerCase().replaceAll('-', ' ')), sample, 'typed loosely');
  // Every single-symbol typo is caught.
  const payload = sample.replaceAll('-', '');
  let caught = 0;
  let typos = 0;
  for (let i = 0; i < payload.length; i += 1) {
    for (const symbol of '0123456789ABCDEFGHJKMNPQRSTVWXYZ') {
      if (symbol === payload[i]) continue;
      typos += 1;
      const typo = payload.slice(0, i) + symbol + payload.slice(i + 1);
      if (normaliseCouponCode(typo) === undefined) caught += 1;
    }
  }
  t.equal(caught, typos, `all ${typos} single-symbol typos are refused`);
  const { rows: sqlCheck } = await db.owner.query('select crs.coupon_check_symbol($1) as symbol', [
    payload.slice(0, 17),
  ]);
  t.equal(sqlCheck[0].symbol, checkSymbol(payload.slice(0, 17)));
});

t.test('a stuck lock becomes SQLSTATE 55P03 (lock_timeout), not a hang', async (t) => {
  await db.owner.query(`select crs.upsert_product('stuck', 'Stuck', 5)`);
  const holder = await db.owner.connect();
  try {
    await holder.query('begin');
    await holder.query(`select * from crs.stock_shards where product_id = 'stuck' for update`);
    const started = Date.now();
    const err = await place({ productId: 'stuck' }).catch((e: unknown) => e);
    t.equal((err as { code?: string }).code, '55P03');
    t.ok(Date.now() - started < 10_000, 'gave up within the timeout');
  } finally {
    await holder.query('rollback');
    holder.release();
  }
  t.equal((await place({ productId: 'stuck' })).outcome, 'reserved', 'works once the lock is gone');
});

t.test('64 sessions selling out 1,000 units: exactly 1,000, no deadlock, no timeout', async (t) => {
  await db.owner.query(`select crs.upsert_product('sell-out', 'Sell-out', 1000)`);
  const sessions = db.pool('api', 64);
  const errors: string[] = [];
  let reserved = 0;
  let refused = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      for (;;) {
        try {
          const outcome = (await place({ productId: 'sell-out' }, sessions)).outcome;
          if (outcome === 'reserved') reserved += 1;
          else if (outcome === 'out_of_stock') {
            refused += 1;
            return;
          } else errors.push(outcome);
        } catch (err) {
          errors.push((err as { code?: string }).code ?? String(err));
          return;
        }
      }
    }),
  );
  t.same(errors, [], 'no deadlock (40P01), no lock timeout (55P03)');
  t.equal(reserved, 1000);
  t.equal(refused, 64, 'every session ends with out_of_stock');
  const { rows } = await db.owner.query(
    `select (select count(*)::int from crs.orders where product_id = 'sell-out') as orders,
            (select sum(remaining)::int from crs.stock_shards where product_id = 'sell-out') as remaining`,
  );
  t.same(rows[0], { orders: 1000, remaining: 0 });
});

t.test('fewer shards later never sells the stock of the shards that went away', async (t) => {
  await db.owner.query(`select crs.upsert_product('reshard', 'Reshard', 100)`);
  await db.owner.query(`update crs.products set shard_count = 8 where product_id = 'reshard'`);
  await db.owner.query(`select crs.upsert_product('reshard', null, 100)`);
  const { rows } = await db.owner.query(
    `select count(*)::int as shards, sum(remaining)::int as remaining
       from crs.stock_shards where product_id = 'reshard'`,
  );
  t.same(rows[0], { shards: 8, remaining: 100 });
  let reserved = 0;
  for (let i = 0; i < 120; i += 1)
    if ((await place({ productId: 'reshard' })).outcome === 'reserved') reserved += 1;
  t.equal(reserved, 100);
});
