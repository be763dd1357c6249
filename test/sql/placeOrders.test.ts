/**
 * crs.place_orders: many orders decided in one call (group commit), each with its own outcome,
 * exactly as if they had come one after another; concurrent batches never oversell, never
 * deadlock, and give back the units their refused orders did not take.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { placeOrders, type PlaceOrderInput } from '../../sql/placeOrder.js';
import { makeTestDatabase } from '../support/database.js';

const db = await makeTestDatabase(t);
const api = db.pool('api');

let counter = 0;
function order(overrides: Partial<PlaceOrderInput> = {}): PlaceOrderInput {
  counter += 1;
  const phone = overrides.customerKey ?? `+35840${String(6_000_000 + counter)}`;
  return {
    orderId: `batch-order-${counter}`,
    productId: 'batch',
    customerKey: phone,
    firstName: 'Aino',
    lastName: 'Virtanen',
    phone,
    tokenHash: randomBytes(32),
    tokenSalt: randomBytes(16),
    ...overrides,
  };
}

async function stockOf(productId: string) {
  const { rows } = await db.owner.query<{ orders: number; remaining: number; total: number }>(
    `select (select count(*)::int from crs.orders o where o.product_id = p.product_id) as orders,
            (select coalesce(sum(remaining), 0)::int from crs.stock_shards s
              where s.product_id = p.product_id) as remaining,
            p.total
       from crs.products p where p.product_id = $1`,
    [productId],
  );
  return rows[0];
}

// First in this file: the plans are made while crs.orders is empty and never analyzed, as on
// a fresh database, and must stay index lookups as the table grows (they are kept until
// autovacuum analyzes it; a scan there cost up to 40 ms per call at 40,000 orders).
t.test('a session that planned on an empty table still looks orders up by index', async (t) => {
  await db.owner.query(`select crs.upsert_product('plans', 'Plans', 100000)`);
  // One session (plans are per session) where auto_explain reports every statement's plan
  // as a notice.
  const session = db.pool('superuser', 1);
  const plans: string[] = [];
  session.on('connect', (client) => client.on('notice', (notice) => plans.push(notice.message ?? '')));
  await session.query(`load 'auto_explain'`);
  await session.query(
    `set auto_explain.log_min_duration = 0; set auto_explain.log_nested_statements = on;
     set auto_explain.log_level = notice; set client_min_messages = notice`,
  );
  const call = (batch: PlaceOrderInput[]) => placeOrders(session, batch);
  const first = order({ productId: 'plans' });
  t.same(
    (await call([first])).map((r) => r.outcome),
    ['reserved'],
    'planned on an empty table',
  );
  for (let round = 0; round < 6; round += 1) {
    await placeOrders(
      api,
      Array.from({ length: 500 }, () => order({ productId: 'plans' })),
    );
  }
  plans.length = 0;
  const again = await call([first, order({ productId: 'plans' })]);
  t.same(
    again.map((r) => r.outcome),
    ['replay', 'reserved'],
  );
  const lookups = plans.filter((plan) => /select coalesce\(array_agg/.test(plan));
  t.equal(lookups.length, 2, 'both lookups reported (ids, customers)');
  for (const plan of lookups) t.match(plan, /Index (Only )?Scan (using|on) orders_/, 'an index lookup');
  t.notMatch(plans.join('\n'), /Seq Scan on orders/, 'no scan of the orders table, 3,001 orders later');
  t.notMatch(plans.join('\n'), /orders_product_created/, 'customers looked up by the unique index');
  t.notMatch(plans.join('\n'), /JIT:/, 'nothing compiled');
});

t.test('one call, one outcome per order, in the order given', async (t) => {
  await db.owner.query(`select crs.upsert_product('batch', 'Batch', 100)`);
  const first = order();
  const taken = order({ customerKey: '+358401111111', phone: '+358401111111' });
  const batch = [
    first,
    order(),
    { ...first }, // the same order again in the same batch: a replay of the first
    { ...first, firstName: 'Other' }, // the same id with other details
    order({ customerKey: taken.customerKey, phone: taken.phone }), // placed before `taken`...
    taken, // ... so this one is the duplicate
    order({ productId: 'no-such-product' }),
  ];
  const results = await placeOrders(api, batch);
  t.same(
    results.map((r) => r.outcome),
    [
      'reserved',
      'reserved',
      'replay',
      'order_id_conflict',
      'reserved',
      'duplicate_customer',
      'unknown_product',
    ],
  );
  t.same(
    results.map((r) => r.orderId),
    batch.map((o) => o.orderId),
  );
  t.same(results[2]?.tokenSalt, first.tokenSalt, "the replay answers with the first order's salt");
  t.equal(results[0]?.status, 'reserved');
  t.same(
    await stockOf('batch'),
    { orders: 3, remaining: 97, total: 100 },
    'refused orders gave their units back',
  );
});

t.test('a batch larger than the stock: the first ones get it, the rest out_of_stock', async (t) => {
  await db.owner.query(`select crs.upsert_product('batch-small', 'Small', 3)`);
  const results = await placeOrders(
    api,
    Array.from({ length: 5 }, () => order({ productId: 'batch-small' })),
  );
  t.same(
    results.map((r) => r.outcome),
    ['reserved', 'reserved', 'reserved', 'out_of_stock', 'out_of_stock'],
  );
  t.same(await stockOf('batch-small'), { orders: 3, remaining: 0, total: 3 });
});

t.test('two products in one batch', async (t) => {
  await db.owner.query(`select crs.upsert_product('batch-a', 'A', 1)`);
  await db.owner.query(`select crs.upsert_product('batch-b', 'B', 2)`);
  const same = '+358402222222';
  const results = await placeOrders(api, [
    order({ productId: 'batch-a', customerKey: same, phone: same }),
    order({ productId: 'batch-b', customerKey: same, phone: same }), // one per customer *per product*
    order({ productId: 'batch-a' }),
    order({ productId: 'batch-b' }),
  ]);
  t.same(
    results.map((r) => r.outcome),
    ['reserved', 'reserved', 'out_of_stock', 'reserved'],
  );
  t.same(await stockOf('batch-a'), { orders: 1, remaining: 0, total: 1 });
  t.same(await stockOf('batch-b'), { orders: 2, remaining: 0, total: 2 });
});

t.test('malformed calls are refused whole and write nothing', async (t) => {
  const before = await stockOf('batch');
  const error = await api
    .query('select * from crs.place_orders($1, $2, $3, $4, $5, $6, $7, $8)', [
      ['malformed-1', 'malformed-2'],
      ['batch'],
      ['+358403333333', '+358403333334'],
      ['A', 'B'],
      ['A', 'B'],
      ['+358403333333', '+358403333334'],
      [randomBytes(32), randomBytes(32)],
      [randomBytes(16), randomBytes(16)],
    ])
    .catch((err: { code?: string }) => err);
  t.equal((error as { code?: string }).code, '22023', 'arrays of different lengths');
  const tooMany = Array.from({ length: 1001 }, () => order());
  const refused = await placeOrders(api, tooMany).catch((err: { code?: string }) => err);
  t.equal((refused as { code?: string }).code, '22023', 'more than 1,000 orders');
  t.same(await stockOf('batch'), before, 'nothing written');
  t.same(await placeOrders(api, []), [], 'an empty batch is an empty answer');
});

t.test('concurrent batches and single orders selling out: exact, no deadlock, no timeout', async (t) => {
  await db.owner.query(`select crs.upsert_product('batch-sell-out', 'Sell-out', 1000)`);
  const sessions = db.pool('api', 24);
  // Customers shared between sessions, in different orders within their batches: the
  // advisory locks are taken in one global order, so this cannot deadlock.
  const customers = Array.from({ length: 400 }, (_, i) => `+35840${String(7_000_000 + i)}`);
  const errors: string[] = [];
  const outcomes = new Map<string, number>();
  await Promise.all(
    Array.from({ length: 24 }, async (_, session) => {
      for (let round = 0; round < 20; round += 1) {
        const size = session % 4 === 0 ? 1 : 10 + ((session * 7 + round) % 40);
        const batch = Array.from({ length: size }, (_, k) => {
          const reused = (session * 31 + round * 17 + k * 13) % 5 === 0;
          if (!reused) return order({ productId: 'batch-sell-out' });
          const phone = customers[(session * 11 + round * 3 + k * 29) % customers.length] as string;
          return order({ productId: 'batch-sell-out', customerKey: phone, phone });
        });
        try {
          for (const r of await placeOrders(sessions, batch)) {
            outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1);
          }
        } catch (err) {
          errors.push((err as { code?: string }).code ?? String(err));
        }
      }
    }),
  );
  t.same(errors, [], 'no deadlock (40P01), no lock timeout (55P03)');
  t.equal(outcomes.get('busy'), undefined, 'no order gave up');
  t.equal(outcomes.get('reserved'), 1000, 'exactly the stock reserved');
  t.ok((outcomes.get('out_of_stock') ?? 0) > 0, 'the rest refused');
  t.ok((outcomes.get('duplicate_customer') ?? 0) > 0, 'shared customers refused after their first');
  t.same(await stockOf('batch-sell-out'), { orders: 1000, remaining: 0, total: 1000 });
  const { rows } = await db.owner.query<{ customers: number; orders: number }>(
    `select count(distinct customer_key)::int as customers, count(*)::int as orders
       from crs.orders where product_id = 'batch-sell-out'`,
  );
  t.equal(rows[0]?.customers, rows[0]?.orders, 'one order per customer');
});
