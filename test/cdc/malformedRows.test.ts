/**
 * Rows the CDC consumer cannot use, and replication messages it cannot decode: each is logged
 * with its LSN (never its contents), counted (crs_cdc_skipped_changes_total) and skipped; the
 * stream goes on, acknowledges past them, and the rows after them (in the same transaction
 * too) take full effect.
 *
 * Real rows: the table constraints that keep such rows out are dropped in this file's own
 * database (schema drift, or a hand-made fix gone wrong) and the rows written as a superuser.
 * Undecodable messages: Postgres only sends well-formed ones, so those are built byte by byte
 * and fed to the real decoder and assembler.
 */
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { PgoutputPlugin } from 'pg-logical-replication';
import t from 'tap';
import { deriveEffects } from '../../cdc/effects.js';
import { lsnNumber } from '../../cdc/metrics.js';
import { TolerantPgoutputPlugin } from '../../cdc/pgoutput.js';
import { startCdc } from '../../cdc/service.js';
import { makeAssembler, type Transaction } from '../../cdc/transactions.js';
import { loadCdcConfig } from '../../common/config.js';
import { makeLogger } from '../../common/log.js';
import { readStockFlag } from '../../common/stockFlag.js';
import { cdcEnv, placeOrders, renderJobs, waitFor } from '../support/cdc.js';
import { makeTestDatabase } from '../support/database.js';
import { makeTestVhost, startTestRedis } from '../support/services.js';

t.test('malformed rows from replication are logged and skipped; the stream goes on', async (t) => {
  const db = await makeTestDatabase(t);
  const redisServer = await startTestRedis(t);
  const amqpUrl = await makeTestVhost(t);
  const redis = new Redis(redisServer.url);
  t.teardown(() => redis.disconnect());

  const logLines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logLines.push(JSON.parse(line));
      done();
    },
  });
  const config = loadCdcConfig({ ...cdcEnv(db, { redisUrl: redisServer.url, amqpUrl }), LOG_LEVEL: 'debug' });
  const cdc = await startCdc(config, makeLogger({ level: 'debug', component: 'cdc', destination }));
  t.teardown(() => cdc.stop());
  await waitFor('the replication stream to open', async () => cdc.consumer.status().streaming);

  const superuser = db.pool('superuser');
  await db.owner.query(`select crs.upsert_product('cdc-bad', 'CDC bad', 64)`);
  const before = await db.owner.query<{ shard: number; remaining: number }>(
    `select shard, remaining from crs.stock_shards where product_id = 'cdc-bad' order by shard`,
  );
  const shards = new Map(before.rows.map((row) => [row.shard, row.remaining]));
  t.ok(shards.size >= 3, 'a product with a few shards');
  const { reserved: early } = await placeOrders(db, { productId: 'default', count: 1, prefix: 'aa01' });
  await waitFor('the first order to be handled', async () => (await renderJobs(db)).includes(early[0]!));

  // What keeps such rows out of these tables, gone.
  await superuser.query(`
    do $$
    declare c record;
    begin
      for c in select conrelid::regclass as tbl, conname from pg_constraint
                where contype in ('c', 'f')
                  and conrelid in ('crs.orders'::regclass, 'crs.stock_shards'::regclass, 'crs.products'::regclass)
      loop
        execute format('alter table %s drop constraint %I', c.tbl, c.conname);
      end loop;
    end $$`);

  // 1. a negative stock count
  await superuser.query(
    `update crs.stock_shards set remaining = -7 where product_id = 'cdc-bad' and shard = 0`,
  );
  // 2. an order whose id is a path (a copy of a real row, whatever columns it has)
  const client = await superuser.connect();
  try {
    await client.query('begin');
    await client.query(
      `create temp table forged on commit drop as select * from crs.orders where order_id = $1`,
      [early[0]],
    );
    await client.query(
      `update forged set order_id = '../../etc/passwd', coupon_code = 'FORGED-CODE-1', customer_key = '+3584000000001'`,
    );
    await client.query('insert into crs.orders select * from forged');
    await client.query('commit');
  } finally {
    client.release();
  }
  // 3. a status no order can have
  await superuser.query(`update crs.orders set status = 'hacked' where order_id = $1`, [early[0]]);
  // 4. a product id that is not one
  await superuser.query(`insert into crs.products (product_id, name, total) values ('bad id}{', 'Bad', 5)`);
  // 5. one bad row and one good row in the same transaction
  await superuser.query(`
    begin;
    update crs.stock_shards set remaining = -1 where product_id = 'cdc-bad' and shard = 1;
    update crs.stock_shards set remaining = 3 where product_id = 'cdc-bad' and shard = 2;
    commit;`);
  const { rows: walAfterBad } = await superuser.query<{ lsn: string }>(
    'select pg_current_wal_lsn()::text as lsn',
  );

  // Rows after them, as usual.
  const { reserved } = await placeOrders(db, { productId: 'default', count: 3, prefix: 'bb02' });
  t.equal(reserved.length, 3);

  const jobs = await waitFor('render jobs for the orders after the bad rows', async () => {
    const queued = await renderJobs(db);
    return reserved.every((id) => queued.includes(id)) ? queued : undefined;
  });
  t.notOk(jobs.includes('../../etc/passwd'), 'no render job for the forged order id');

  const expected = [...shards].reduce((sum, [shard, remaining]) => sum + (shard === 2 ? 3 : remaining), 0);
  const flag = await waitFor('the good row of the mixed transaction in the flag', async () => {
    const f = await readStockFlag(redis, 'cdc-bad');
    return f && f.remaining === expected ? f : undefined;
  });
  t.equal(
    flag.remaining,
    expected,
    'the flag took the good shard and kept the last good value of the bad ones',
  );
  t.equal(await readStockFlag(redis, 'bad id}{'), undefined, 'no flag for the product id that is not one');

  await waitFor('the acknowledged position to pass the bad rows', async () => {
    const acknowledged = cdc.consumer.status().acknowledgedLsn;
    return acknowledged !== undefined && lsnNumber(acknowledged) >= lsnNumber(walAfterBad[0]!.lsn);
  });
  const status = cdc.consumer.status();
  t.equal(status.role, 'active', 'still the active consumer');
  t.ok(status.streaming, 'still streaming');

  const skipped = logLines.filter((line) => line['msg'] === 'change skipped');
  t.same(
    skipped.map((line) => `${line['table']} ${line['op']} ${line['key']}`).sort(),
    [
      'orders insert ../../etc/passwd',
      `orders update ${early[0]}`,
      'products insert bad id}{',
      'stock_shards update cdc-bad',
      'stock_shards update cdc-bad',
    ],
    'each bad row logged once, by table, operation and key',
  );
  t.ok(
    skipped.every(
      (line) => line['level'] === 40 && /^[0-9A-F]+\/[0-9A-F]+$/.test(String(line['lsn'])) && line['reason'],
    ),
    'as warnings with the commit LSN and the reason',
  );
  const logged = JSON.stringify(logLines);
  t.notOk(logged.includes('FORGED-CODE-1'), 'never with the row contents (the coupon code)');
  t.notOk(logged.includes('+3584000000001'), 'never with the row contents (the phone)');
  t.same(
    logLines.filter((line) => Number(line['level']) >= 50),
    [],
    'no error logged',
  );

  const metrics = await (await fetch(`${cdc.probes.url}/metrics`)).text();
  t.match(metrics, /^crs_cdc_skipped_changes_total 5$/m, 'counted: crs_cdc_skipped_changes_total');
  t.match(metrics, /^crs_cdc_reconnects_total 0$/m, 'the stream was never restarted');
});

/** pgoutput (protocol 1) messages, byte by byte. */
const pg = {
  int8: (n: number) => Buffer.from([n]),
  int16: (n: number) => {
    const b = Buffer.alloc(2);
    b.writeInt16BE(n);
    return b;
  },
  int32: (n: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    return b;
  },
  int64: (n: bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(n);
    return b;
  },
  string: (s: string) => Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]),
  char: (c: string) => Buffer.from(c, 'latin1'),
};
const TEXT = 25;
const ORDERS_RELATION = 16_500;
const relation = Buffer.concat([
  pg.char('R'),
  pg.int32(ORDERS_RELATION),
  pg.string('crs'),
  pg.string('orders'),
  pg.char('d'),
  pg.int16(3),
  ...[
    ['order_id', 1],
    ['product_id', 0],
    ['status', 0],
  ].flatMap(([name, key]) => [
    pg.int8(key as number),
    pg.string(name as string),
    pg.int32(TEXT),
    pg.int32(-1),
  ]),
]);
const begin = Buffer.concat([
  pg.char('B'),
  pg.int64(0x1_6b37_48n),
  pg.int64(800_000_000_000_000n),
  pg.int32(4242),
]);
const insert = (relationId: number, values: string[], kind = 't') =>
  Buffer.concat([
    pg.char('I'),
    pg.int32(relationId),
    pg.char('N'),
    pg.int16(values.length),
    ...values.flatMap((v) => [pg.char(kind), pg.int32(Buffer.byteLength(v)), Buffer.from(v)]),
  ]);
const commit = Buffer.concat([
  pg.char('C'),
  pg.int8(0),
  pg.int64(0x1_6b37_48n),
  pg.int64(0x1_6b37_78n),
  pg.int64(800_000_000_000_000n),
]);

t.test(
  'replication messages that cannot be decoded are skipped; the transaction keeps the rest',
  async (t) => {
    const good1 = insert(ORDERS_RELATION, ['order-good-001', 'default', 'reserved']);
    const good2 = insert(ORDERS_RELATION, ['order-good-002', 'default', 'reserved']);
    const malformed: [string, Buffer][] = [
      ['a change for a relation never described', insert(99_999, ['order-ghost-01', 'default', 'reserved'])],
      ['an unknown message tag', Buffer.concat([pg.char('Z'), pg.int32(1)])],
      ['a message cut short', good1.subarray(0, good1.length - 4)],
      ['an unknown attribute kind', insert(ORDERS_RELATION, ['order-weird-01', 'default', 'reserved'], 'x')],
      ['an empty message', Buffer.alloc(0)],
    ];

    // The library's own decoder throws on each (in the consumer that would end the process).
    const strict = new PgoutputPlugin({ protoVersion: 1, publicationNames: ['crs_changes'] });
    strict.parse(relation);
    for (const [name, buffer] of malformed)
      t.throws(() => strict.parse(buffer), `the plain decoder throws: ${name}`);

    const plugin = new TolerantPgoutputPlugin({ protoVersion: 1, publicationNames: ['crs_changes'] });
    const skipped: string[] = [];
    const assembler = makeAssembler((reason) => skipped.push(reason));
    const transactions: Transaction[] = [];
    for (const buffer of [relation, begin, good1, ...malformed.map(([, b]) => b), good2, commit]) {
      const txn = assembler.push(plugin.parse(buffer));
      if (txn) transactions.push(txn);
    }
    t.equal(skipped.length, malformed.length, 'each undecodable message reported once');
    t.match(
      skipped[0],
      /^undecodable message I \(\d+ bytes\): missing relation$/,
      'with its tag, size and reason',
    );
    t.match(skipped[1], /^undecodable message Z/);
    t.match(skipped[2], /unexpected end of message/);
    t.match(skipped[3], /unknown attribute kind x/);
    t.match(skipped[4], /^undecodable message {2}\(0 bytes\)/);
    t.equal(transactions.length, 1, 'the transaction still commits');
    const [txn] = transactions;
    t.same(
      txn?.changes.map((c) => c.row['order_id']),
      ['order-good-001', 'order-good-002'],
      'with its decodable changes, before and after the bad ones',
    );
    t.same(
      deriveEffects(transactions).newOrders.map((o) => o.orderId),
      ['order-good-001', 'order-good-002'],
      'which take effect',
    );
  },
);

t.test('a change outside a transaction and a transaction without its commit are reported', async (t) => {
  const skipped: string[] = [];
  const plugin = new TolerantPgoutputPlugin({ protoVersion: 1, publicationNames: ['crs_changes'] });
  const assembler = makeAssembler((reason) => skipped.push(reason));
  const results = [
    relation,
    insert(ORDERS_RELATION, ['order-lost-001', 'default', 'reserved']),
    begin,
    begin,
    commit,
  ]
    .map((buffer) => assembler.push(plugin.parse(buffer)))
    .filter(Boolean);
  t.equal(results.length, 1, 'the last begin/commit pair is one transaction');
  t.same(skipped, [
    'insert on orders outside a transaction or without a row',
    'transaction 4242 without its commit',
  ]);
});
