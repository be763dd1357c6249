/**
 * Personal data (migrations/000004, sql/privacy.sql): the customer key is a keyed hash of the
 * phone, computed in the database; crs.purge_personal_data removes names and phone numbers
 * of orders redeemed or expired long enough ago, and one order per customer still holds.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import t from 'tap';
import { migrationsDir, sqlDir } from '../../common/paths.js';
import { ROLES, urlFor } from '../../devstack/bootstrap.js';
import { migrate } from '../../migrations/runner.js';
import { readHarness } from '../setup/harness.js';
import { makeTestDatabase } from '../support/database.js';

const db = await makeTestDatabase(t);
const api = db.pool('api');
const renderer = db.pool('renderer');

const { rows: secretRows } = await db.owner.query<{ secret: Buffer }>(
  'select secret from crs.customer_key_secret',
);
const secret = secretRows[0]?.secret ?? Buffer.alloc(0);
/** The customer key as the database should compute it, computed here independently. */
const expectedKey = (phone: string) => createHmac('sha256', secret).update(phone, 'utf8').digest('hex');

let counter = 0;
async function place(productId: string, phone: string, orderId = `privacy-${(counter += 1)}`) {
  const { rows } = await api.query<{ outcome: string; order_id: string }>(
    'select * from crs.place_order($1, $2, $3, $4, $5, $6, $7, $8)',
    [orderId, productId, phone, 'Aino', 'Virtanen', phone, randomBytes(32), randomBytes(16)],
  );
  return { outcome: rows[0]?.outcome, orderId };
}

async function order(orderId: string) {
  const { rows } = await db.owner.query(
    `select customer_key, first_name, last_name, phone, purged_at, status, coupon_code
       from crs.orders where order_id = $1`,
    [orderId],
  );
  return rows[0];
}

/** An order in a given state, its dates moved back by `daysAgo`. */
async function placedAndAged(
  productId: string,
  phone: string,
  state: 'redeemed' | 'voucher_ready' | 'reserved' | 'cancelled',
  daysAgo: number,
) {
  const { orderId } = await place(productId, phone);
  if (state !== 'reserved' && state !== 'cancelled') {
    await db.owner.query('select crs.record_voucher($1, $2)', [orderId, `vouchers/${orderId}.pdf`]);
  }
  if (state === 'redeemed') {
    const code = (await order(orderId))?.coupon_code as string;
    await db.owner.query(`select * from crs.redeem_voucher($1, 'staff')`, [code]);
  }
  await db.owner.query(
    `update crs.orders
        set status = case when $3 = 'cancelled' then 'cancelled' else status end,
            created_at = now() - make_interval(days => $2 + 1),
            voucher_stored_at = voucher_stored_at - make_interval(days => $2),
            redeemed_at = redeemed_at - make_interval(days => $2),
            updated_at = now() - make_interval(days => $2)
      where order_id = $1`,
    [orderId, daysAgo, state],
  );
  return orderId;
}

const purge = async (afterDays: number, expiryDays: number, limit: number) =>
  (
    await renderer.query<{ n: number }>('select crs.purge_personal_data($1, $2, $3) as n', [
      afterDays,
      expiryDays,
      limit,
    ])
  ).rows[0]?.n;

t.test('the customer key is an HMAC of the E.164 phone under the database key', async (t) => {
  await db.owner.query(`select crs.upsert_product('privacy', 'Privacy', 100)`);
  t.equal(secret.length, 32, 'a 256-bit key, made by the database');
  const placed = await place('privacy', '+358401110001');
  t.equal(placed.outcome, 'reserved');
  const row = await order(placed.orderId);
  t.match(row?.customer_key, /^[0-9a-f]{64}$/);
  t.equal(row?.customer_key, expectedKey('+358401110001'), 'hex HMAC-SHA256 of the phone');
  t.notMatch(row?.customer_key, /358401110001/, 'the phone is not in the key');
  t.equal(row?.phone, '+358401110001', 'the phone itself stays until the purge');
  const { rows } = await db.owner.query(`select crs.customer_key_hash('+358401110001') as key`);
  t.equal(rows[0].key, row?.customer_key, 'the owner can look a phone up');

  t.equal((await place('privacy', '+358401110001')).outcome, 'duplicate_customer');
  t.equal((await place('privacy', '+358401110002')).outcome, 'reserved', 'another phone, another key');
});

t.test('a customer key that is not E.164 is refused and nothing is written', async (t) => {
  const before = await db.owner.query(`select count(*)::int as n from crs.orders`);
  const failed = await place('privacy', '0401110003').catch((err: { code: string }) => err.code);
  t.equal(failed, '23514', 'check_violation, as the column check answered before');
  const after = await db.owner.query(`select count(*)::int as n from crs.orders`);
  t.equal(after.rows[0].n, before.rows[0].n);
});

t.test('the purge takes exactly the orders redeemed or expired long enough ago', async (t) => {
  await db.owner.query(`select crs.upsert_product('purge', 'Purge', 100)`);
  // Retention 30 days, vouchers expire 90 days after they are stored.
  const redeemedLongAgo = await placedAndAged('purge', '+358402220001', 'redeemed', 31);
  const redeemedRecently = await placedAndAged('purge', '+358402220002', 'redeemed', 29);
  const expiredLongAgo = await placedAndAged('purge', '+358402220003', 'voucher_ready', 121);
  const expiredRecently = await placedAndAged('purge', '+358402220004', 'voucher_ready', 119);
  const neverRendered = await placedAndAged('purge', '+358402220005', 'reserved', 400);
  const cancelled = await placedAndAged('purge', '+358402220006', 'cancelled', 400);
  const fresh = await placedAndAged('purge', '+358402220007', 'voucher_ready', 0);
  const keysBefore = await Promise.all([redeemedLongAgo, expiredLongAgo].map(order));

  t.equal(await purge(30, 90, 1000), 2);
  for (const [i, orderId] of [redeemedLongAgo, expiredLongAgo].entries()) {
    const row = await order(orderId);
    t.same(
      [row?.first_name, row?.last_name, row?.phone],
      ['', '', ''],
      `${orderId}: names and phone removed`,
    );
    t.ok(row?.purged_at instanceof Date, `${orderId}: purged_at set`);
    t.equal(row?.customer_key, keysBefore[i]?.customer_key, 'the customer key stays');
    t.equal(row?.coupon_code, keysBefore[i]?.coupon_code, 'the coupon stays');
    t.equal(row?.status, keysBefore[i]?.status, 'the status stays');
  }
  for (const orderId of [redeemedRecently, expiredRecently, neverRendered, cancelled, fresh]) {
    const row = await order(orderId);
    t.same([row?.first_name, row?.purged_at], ['Aino', null], `${orderId}: kept`);
  }

  t.equal(await purge(30, 90, 1000), 0, 'idempotent: nothing is due twice');
  t.equal(await purge(28, 92, 1000), 1, 'a shorter retention takes the recent redemption too');
  t.equal((await order(redeemedRecently))?.phone, '');
  t.equal(await purge(0, 1, 1000), 1, 'retention 0, expiry 1 day: the voucher stored 119 days ago');
  t.equal((await order(expiredRecently))?.phone, '');
  t.equal((await order(fresh))?.phone, '+358402220007', 'a voucher stored today has not expired');
  t.same((await order(neverRendered))?.purged_at, null, 'an order still waiting for its voucher is kept');
});

t.test('one order per customer still holds after the purge', async (t) => {
  const purged = await placedAndAged('purge', '+358403330001', 'redeemed', 60);
  t.equal(await purge(30, 90, 1000), 1);
  t.equal((await order(purged))?.phone, '');
  t.equal((await place('purge', '+358403330001')).outcome, 'duplicate_customer', 'same phone, same product');
  t.equal((await place('privacy', '+358403330001')).outcome, 'reserved', 'another product: still allowed');
  const replay = await api.query('select * from crs.place_order($1, $2, $3, $4, $5, $6, $7, $8)', [
    purged,
    'purge',
    '+358403330001',
    'Aino',
    'Virtanen',
    '+358403330001',
    randomBytes(32),
    randomBytes(16),
  ]);
  t.equal(
    replay.rows[0].outcome,
    'order_id_conflict',
    'a replay of a purged order: its details are gone, so it cannot be confirmed',
  );
  const code = (await order(purged))?.coupon_code as string;
  const again = await db.owner.query(`select * from crs.redeem_voucher($1, 'staff')`, [code]);
  t.equal(again.rows[0].outcome, 'already_redeemed', 'redemption still answers for a purged order');
  const { rows } = await db.owner.query(
    `select order_id, customer from crs.orders_page('purge', 500, null, null) where order_id = any ($1)`,
    [[purged, await placedAndAged('purge', '+358403330567', 'reserved', 0)]],
  );
  const shown = Object.fromEntries(
    rows.map((r: { order_id: string; customer: string | null }) => [r.order_id, r.customer]),
  );
  t.equal(shown[purged], null, 'the admin list shows no customer for a purged order');
  t.ok(Object.values(shown).includes('Aino V. (…567)'), 'and the short form, from the phone, for others');
});

t.test('the purge works in batches of the limit given', async (t) => {
  await db.owner.query(`select crs.upsert_product('batched', 'Batched', 100)`);
  for (let i = 0; i < 5; i += 1) await placedAndAged('batched', `+35840444000${i}`, 'redeemed', 40);
  t.same(
    [await purge(30, 90, 2), await purge(30, 90, 2), await purge(30, 90, 2), await purge(30, 90, 2)],
    [2, 2, 1, 0],
  );
});

t.test('purged rows hold no personal data, and only purged rows may be empty', async (t) => {
  const { orderId } = await place('privacy', '+358405550001');
  const state = async (sql: string) =>
    db.owner.query(sql, [orderId]).then(
      () => 'ok',
      (err: { code: string; constraint?: string }) => `${err.code} ${err.constraint ?? ''}`.trim(),
    );
  t.equal(
    await state(`update crs.orders set purged_at = now() where order_id = $1`),
    '23514 orders_purged_has_no_personal_data',
  );
  t.equal(
    await state(`update crs.orders set first_name = '' where order_id = $1`),
    '23514 orders_first_name_check',
  );
  t.equal(
    await state(`update crs.orders set customer_key = '+358405550001' where order_id = $1`),
    '23514 orders_customer_key_check',
    'the key column cannot hold a phone number',
  );
  for (const args of ['-1, 90, 10', '30, 0, 10', '30, 90, 0', '30, 90, 10001', 'null, 90, 10']) {
    t.equal(
      await renderer.query(`select crs.purge_personal_data(${args})`).then(
        () => 'ok',
        (err: { code: string }) => err.code,
      ),
      '22023',
      `purge_personal_data(${args}) refused`,
    );
  }
});

t.test('the migration rehashes the keys of orders placed before it', async (t) => {
  const harness = readHarness();
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: harness.superuserUrl });
  await admin.connect();
  await admin.query(`create database ${name} owner ${ROLES.owner}`);
  const dir = await mkdtemp(join(tmpdir(), 'crs-privacy-'));
  const client = new pg.Client({
    connectionString: urlFor(harness.superuserUrl, ROLES.owner, harness.passwords.owner, name),
  });
  t.teardown(async () => {
    await client.end().catch(() => undefined);
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
    await rm(dir, { recursive: true, force: true });
  });
  await client.connect();
  // The schema as it was before 000004, with orders keyed by the phone itself.
  const before = join(dir, 'migrations');
  await cp(migrationsDir, before, { recursive: true });
  for (const file of await readdir(before)) {
    if (file >= '000004') await rm(join(before, file));
  }
  await mkdir(join(dir, 'empty-sql'));
  await migrate(client, { migrationsDir: before, sqlDir: join(dir, 'empty-sql') });
  await client.query(`insert into crs.products (product_id, name, total) values ('old', 'Old', 10)`);
  for (const [i, phone] of ['+358406660001', '+358406660002'].entries()) {
    await client.query(
      `insert into crs.orders (order_id, product_id, customer_key, first_name, last_name, phone,
                               coupon_code, token_hash, token_salt)
       values ($1, 'old', $2, 'Aino', 'Virtanen', $2, $3, $4, $5)`,
      [`old-order-${i}`, phone, `OLD-${i}`, randomBytes(32), randomBytes(16)],
    );
  }

  const result = await migrate(client, { migrationsDir, sqlDir });
  t.ok(result.applied.includes('000004_privacy_and_audit.sql'));
  const key = (await client.query<{ secret: Buffer }>('select secret from crs.customer_key_secret')).rows[0]
    ?.secret as Buffer;
  const { rows } = await client.query<{ customer_key: string; phone: string }>(
    `select customer_key, phone from crs.orders order by order_id`,
  );
  t.same(
    rows.map((r) => r.customer_key),
    rows.map((r) => createHmac('sha256', key).update(r.phone).digest('hex')),
    'every existing key is now the HMAC of its phone',
  );
  const again = await client.query(`select crs.customer_key_hash('+358406660001') = $1 as same`, [
    rows[0]?.customer_key,
  ]);
  t.equal(again.rows[0].same, true, 'and new orders hash the same way');
});
