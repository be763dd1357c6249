/**
 * The admin page's search and export at 1,000,000 orders. How long each search key takes in the
 * database is measured and logged (not asserted: two shared cores are no benchmark machine);
 * that each finds its order, and that the CSV export streams (the API's memory stays flat
 * while 1,000,000 rows go out), are asserted.
 */
import { request } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import t from 'tap';
import { parseOrderSearch, searchOrders } from '../../sql/admin.js';
import { makeTestDatabase } from '../support/database.js';
import { startTestApi } from '../support/api.js';
import { adminCookie } from '../support/adminSession.js';

const ORDERS = 1_000_000;
const db = await makeTestDatabase(t);
const live = await startTestApi(t, db);

await db.owner.query(`select crs.upsert_product('scale', 'Scale', 2000000)`);
const loading = Date.now();
// Names: 8 first names numbered (Aino17), 8 surnames, so a surname matches 125,000 orders.
await db.owner.query(
  `insert into crs.orders (order_id, product_id, customer_key, first_name, last_name, phone, coupon_code,
                           token_hash, token_salt, status, created_at, updated_at)
   select 'scale-' || lpad(i::text, 10, '0'), 'scale', encode(sha256(i::text::bytea), 'hex'),
          (array['Aino','Eino','Helmi','Oliver','Sofia','Leo','Ella','Väinö'])[1 + i % 8] || i,
          (array['Virtanen','Korhonen','Mäkinen','Nieminen','Hämäläinen','Laine','Heikkinen','Koskinen'])[1 + (i / 8) % 8],
          '+3584' || lpad(i::text, 9, '0'), crs.new_coupon_code(),
          sha256(i::text::bytea), substr(sha256(('s' || i)::bytea), 1, 16), 'reserved',
          timestamptz '2026-01-01' + i * interval '7 seconds', now()
     from generate_series(1, $1) as i`,
  [ORDERS],
);
await db.owner.query('analyze crs.orders');
t.comment(`${ORDERS} orders inserted and analysed in ${((Date.now() - loading) / 1000).toFixed(0)} s`);

t.test('search finds an order by each key; the time each takes is logged', async (t) => {
  const pool = db.pool('api');
  const n = 424_242;
  const { rows } = await db.owner.query('select order_id, coupon_code from crs.orders where order_id = $1', [
    `scale-${String(n).padStart(10, '0')}`,
  ]);
  const { order_id: orderId, coupon_code: code } = rows[0] as { order_id: string; coupon_code: string };
  const cases = [
    ['order id', orderId, 1],
    ['coupon code', code.toLowerCase(), 1],
    ['phone', `04${String(n).padStart(9, '0')}`.replace(/^04/, '+3584'), 1],
    // As the insert names them: first name 1 + n % 8, surname 1 + (n / 8) % 8.
    ['full name', `Helmi${n} Heikkinen`, 1],
    ['common surname (125,000 orders, the newest 50)', 'korhonen', 50],
  ] as const;
  const report: string[] = [];
  for (const [key, query, expected] of cases) {
    const search = parseOrderSearch(query, 'FI');
    if (!search) throw new Error(`not a search: ${query}`);
    const times: number[] = [];
    let found = 0;
    for (let run = 0; run < 7; run += 1) {
      const started = process.hrtime.bigint();
      found = (await searchOrders(pool, search, 50)).length;
      times.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    times.sort((a, b) => a - b);
    t.equal(found, expected, `${key}: found`);
    report.push(`${key}: median ${times[3]!.toFixed(1)} ms, slowest ${times[6]!.toFixed(1)} ms`);
  }
  t.comment(
    `search at ${ORDERS} orders (round trip from the API's pool, 7 runs each):\n${report.join('\n')}`,
  );
  const n2 = parseOrderSearch(`Helmi${n} Heikkinen`, 'FI');
  t.ok(n2?.name, 'a full name is searched as a name');
});

t.test('the CSV export of 1,000,000 orders streams: the API memory stays flat', async (t) => {
  const cookie = await adminCookie(live.http, live.adminToken);
  // What is live, not what waits for collection: the heap measured right after a full GC.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const live_ = () => {
    gc();
    const now = process.memoryUsage();
    return now.heapUsed + now.external;
  };
  const before = live_();
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, live_());
  }, 500);
  const started = Date.now();
  const { bytes, lines } = await new Promise<{ bytes: number; lines: number }>((resolve, reject) => {
    const req = request(
      new URL('/admin/products/scale/orders.csv', live.baseUrl),
      { headers: { cookie } },
      (res) => {
        let bytes = 0;
        let lines = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines += 1;
        });
        res.on('end', () => resolve({ bytes, lines }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
  clearInterval(sampler);
  const seconds = (Date.now() - started) / 1000;
  const growthMb = (peak - before) / 1024 ** 2;
  t.equal(lines, ORDERS + 1, 'a header and every order');
  t.comment(
    `export: ${ORDERS} orders, ${(bytes / 1024 ** 2).toFixed(0)} MB of CSV in ${seconds.toFixed(1)} s; ` +
      `the API's live memory (after GC, sampled every 500 ms) grew at most ${growthMb.toFixed(1)} MB`,
  );
  t.ok(
    growthMb < bytes / 1024 ** 2 / 4,
    `memory grew ${growthMb.toFixed(0)} MB for ${(bytes / 1024 ** 2).toFixed(0)} MB sent`,
  );
});
