/**
 * The guarantees under load: never oversell, never two orders for one customer, whatever the
 * concurrency. Thousands of orders through the real HTTP API into the real database.
 */
import t from 'tap';
import { makeTestDatabase } from '../support/database.js';
import { orderBody, startTestApi } from '../support/api.js';

const db = await makeTestDatabase(t);
const { http, adminToken } = await startTestApi(t, db);

async function createProduct(productId: string, total: number) {
  const res = await http.request(`/api/admin/products/${productId}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${adminToken}` },
    body: { total },
  });
  if (res.status !== 201) throw new Error(`could not create ${productId}: ${res.text}`);
}

function countBy<T>(items: T[], key: (item: T) => string) {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

t.test('3,000 concurrent orders for 500 units: exactly 500 reserved', async (t) => {
  await createProduct('flash', 500);
  const responses = await Promise.all(
    Array.from({ length: 3000 }, (_, i) =>
      http.request('/api/orders', {
        body: orderBody({ productId: 'flash', phone: `+358 40 ${String(2_000_000 + i)}` }),
      }),
    ),
  );
  const outcomes = countBy(responses, (r) => (r.status === 201 ? 'reserved' : String(r.json?.error?.code)));
  t.same(outcomes, { reserved: 500, out_of_stock: 2500 });

  const stock = await http.request('/api/stock?productId=flash');
  t.same(stock.json, { productId: 'flash', name: 'flash', total: 500, remaining: 0, available: false });
  const { rows } = await db.owner.query(
    `select count(*)::int as orders, count(distinct customer_key)::int as customers,
            count(distinct coupon_code)::int as codes
       from crs.orders where product_id = 'flash'`,
  );
  t.same(rows[0], { orders: 500, customers: 500, codes: 500 });
});

t.test('200 concurrent orders from one customer: exactly one reserved', async (t) => {
  await createProduct('single', 1000);
  const responses = await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      http.request('/api/orders', {
        // Each request has its own order id and spelling of the same phone number.
        body: orderBody({
          productId: 'single',
          phone: i % 2 ? '+358 40 999 8877' : '040 999 8877',
          firstName: `Attempt ${i}`,
        }),
      }),
    ),
  );
  const outcomes = countBy(responses, (r) => (r.status === 201 ? 'reserved' : String(r.json?.error?.code)));
  t.same(outcomes, { reserved: 1, duplicate_customer: 199 });
  const { rows } = await db.owner.query(
    `select count(*)::int as n from crs.orders where product_id = 'single'`,
  );
  t.equal(rows[0].n, 1);
  const stock = await http.request('/api/stock?productId=single');
  t.equal(stock.json.remaining, 999);
});

t.test('the same order sent 50 times at once is decided once', async (t) => {
  await createProduct('double-click', 10);
  const body = orderBody({ productId: 'double-click', orderId: 'double-click-0001' });
  const responses = await Promise.all(
    Array.from({ length: 50 }, () => http.request('/api/orders', { body })),
  );
  const statuses = countBy(responses, (r) => String(r.status));
  t.same(statuses, { '201': 1, '200': 49 });
  t.equal(new Set(responses.map((r) => r.json.accessToken)).size, 1, 'every answer has the same token');
  const stock = await http.request('/api/stock?productId=double-click');
  t.equal(stock.json.remaining, 9);
});

t.test('stock changes by the admin during a rush never oversell', async (t) => {
  await createProduct('rush', 100);
  const orders = Array.from({ length: 600 }, (_, i) =>
    http.request('/api/orders', {
      body: orderBody({ productId: 'rush', phone: `+358 45 ${String(3_000_000 + i)}` }),
    }),
  );
  // Raise the total twice, one after the other, while orders are in flight.
  const raise = (total: number) =>
    http.request('/api/admin/products/rush', {
      method: 'PUT',
      headers: { authorization: `Bearer ${adminToken}` },
      body: { total },
    });
  const raises = (async () => {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const first = await raise(150);
    const second = await raise(200);
    return [first, second];
  })();
  const [responses, raised] = await Promise.all([Promise.all(orders), raises]);
  t.same(
    raised.map((r) => r.status),
    [200, 200],
  );
  const reserved = responses.filter((r) => r.status === 201).length;
  const { rows } = await db.owner.query(
    `select (select count(*)::int from crs.orders where product_id = 'rush') as orders,
            (select sum(remaining)::int from crs.stock_shards where product_id = 'rush') as remaining`,
  );
  t.equal(rows[0].orders, reserved, 'every 201 is an order and every order had a 201');
  t.equal(rows[0].orders + rows[0].remaining, 200, 'orders + remaining = total');
  t.ok(reserved <= 200);
});

t.test('orders that arrive together share a transaction (group commit), each its own answer', async (t) => {
  await createProduct('grouped', 1000);
  const before = await batchCounts();
  // 300 orders at once, with a replay and a duplicate customer mixed in.
  const bodies: Record<string, unknown>[] = Array.from({ length: 300 }, (_, i) =>
    orderBody({
      productId: 'grouped',
      orderId: `grouped-${String(i).padStart(4, '0')}`,
      phone: `+358 40 ${String(3_000_000 + i)}`,
    }),
  );
  const [first, second] = bodies as [Record<string, unknown>, Record<string, unknown>];
  bodies.push({ ...first }, { ...second, orderId: 'grouped-dup-customer' });
  const responses = await Promise.all(bodies.map((body) => http.request('/api/orders', { body })));
  const outcomes = countBy(responses, (r) =>
    r.status === 201 ? 'reserved' : r.status === 200 ? 'replay' : String(r.json?.error?.code),
  );
  t.same(outcomes, { reserved: 300, replay: 1, duplicate_customer: 1 });
  const after = await batchCounts();
  const calls = after.count - before.count;
  const orders = after.sum - before.sum;
  t.equal(orders, 302, 'every order went through crs.place_orders');
  t.ok(calls < orders / 2, `fewer calls than orders (${calls} calls for ${orders} orders)`);
});

/** crs_order_batch_size: how many crs.place_orders calls decided how many orders. */
async function batchCounts() {
  const text = (await http.request('/metrics')).text;
  const value = (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? 'NaN');
  return { count: value('crs_order_batch_size_count'), sum: value('crs_order_batch_size_sum') };
}
