import { cp, mkdtemp, writeFile, appendFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import t, { type Test } from 'tap';
import { migrationsDir, sqlDir } from '../../common/paths.js';
import { ROLES, urlFor } from '../../devstack/bootstrap.js';
import { MigrationError, migrate, migrationStatus } from '../../migrations/runner.js';
import { readHarness } from '../setup/harness.js';

const harness = readHarness();

/** An empty database owned by the migration owner, and a copy of the SQL sources to edit. */
async function freshDatabase(t: Test) {
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: harness.superuserUrl });
  await admin.connect();
  await admin.query(`create database ${name} owner ${ROLES.owner}`);
  await admin.end();
  const dir = await mkdtemp(join(tmpdir(), 'crs-migrations-'));
  await cp(migrationsDir, join(dir, 'migrations'), { recursive: true });
  await cp(sqlDir, join(dir, 'sql'), { recursive: true });
  const url = urlFor(harness.superuserUrl, ROLES.owner, harness.passwords.owner, name);
  const clients: pg.Client[] = [];
  const connect = async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    clients.push(client);
    return client;
  };
  t.teardown(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    const drop = new pg.Client({ connectionString: harness.superuserUrl });
    await drop.connect();
    await drop.query(`drop database if exists ${name} with (force)`);
    await drop.end();
    await rm(dir, { recursive: true, force: true });
  });
  return {
    connect,
    sources: { migrationsDir: join(dir, 'migrations'), sqlDir: join(dir, 'sql') },
  };
}

t.test('a fresh database gets every migration, and a second run is a no-op', async (t) => {
  const db = await freshDatabase(t);
  const client = await db.connect();
  const first = await migrate(client, db.sources);
  t.ok(first.applied.includes('000001_order_core.sql'));
  t.ok(first.applied.includes('place_order.sql'));
  const { rows } = await client.query(
    `select to_regprocedure('crs.place_order(text,text,text,text,text,text,bytea,bytea)') is not null as ok`,
  );
  t.equal(rows[0].ok, true);

  const second = await migrate(client, db.sources);
  t.same(second.applied, [], 'nothing to do the second time');
  const statuses = await migrationStatus(client, db.sources);
  t.ok(
    statuses.every((s) => s.state === 'applied'),
    'status lists everything as applied',
  );
});

t.test('an edited applied migration is refused and nothing changes', async (t) => {
  const db = await freshDatabase(t);
  const client = await db.connect();
  await migrate(client, db.sources);
  await appendFile(
    join(db.sources.migrationsDir, '000001_order_core.sql'),
    '\ncreate table crs.sneaky (id int);\n',
  );
  await writeFile(join(db.sources.migrationsDir, '000002_later.sql'), 'create table crs.later (id int);\n');

  const statuses = await migrationStatus(client, db.sources);
  t.equal(statuses.find((s) => s.name === '000001_order_core.sql')?.state, 'changed');
  const refusal = await migrate(client, db.sources).catch((err: unknown) => err);
  t.ok(refusal instanceof MigrationError);
  t.equal((refusal as MigrationError).code, 'checksum_mismatch');
  t.match((refusal as Error).message, /000001_order_core\.sql was edited/);
  const { rows } = await client.query(
    `select to_regclass('crs.sneaky') as sneaky, to_regclass('crs.later') as later`,
  );
  t.same(rows[0], { sneaky: null, later: null }, 'not even the pending migration ran');
});

t.test('a changed repeatable script is applied again', async (t) => {
  const db = await freshDatabase(t);
  const client = await db.connect();
  await migrate(client, db.sources);
  await appendFile(
    join(db.sources.sqlDir, 'stock.sql'),
    '\ncomment on function crs.get_stock(text) is $$changed$$;\n',
  );
  const result = await migrate(client, db.sources);
  t.same(result.applied, ['stock.sql']);
  const { rows } = await client.query(
    `select obj_description('crs.get_stock(text)'::regprocedure) as comment`,
  );
  t.equal(rows[0].comment, 'changed');
});

t.test('a failing migration leaves nothing behind', async (t) => {
  const db = await freshDatabase(t);
  const client = await db.connect();
  await migrate(client, db.sources);
  await writeFile(
    join(db.sources.migrationsDir, '000002_broken.sql'),
    'create table crs.half (id int);\nselect 1 / 0;\n',
  );
  await t.rejects(migrate(client, db.sources), {
    code: 'apply_failed',
    message: /000002_broken\.sql failed: division by zero/,
  });
  const { rows } = await client.query(`select to_regclass('crs.half') as half`);
  t.equal(rows[0].half, null);
  const statuses = await migrationStatus(client, db.sources);
  t.equal(statuses.find((s) => s.name === '000002_broken.sql')?.state, 'pending');
});

t.test('concurrent runners take turns: all applied once, no error', async (t) => {
  const db = await freshDatabase(t);
  const clients = await Promise.all([db.connect(), db.connect(), db.connect()]);
  const results = await Promise.all(clients.map((client) => migrate(client, db.sources)));
  const applied = results.flatMap((r) => r.applied);
  t.equal(applied.filter((name) => name === '000001_order_core.sql').length, 1);
  t.equal(results.filter((r) => r.applied.length === 0).length, 2, 'the others found nothing to do');
});

t.test('a bad migration file name is refused', async (t) => {
  const db = await freshDatabase(t);
  const client = await db.connect();
  await writeFile(join(db.sources.migrationsDir, '2_Oops.sql'), 'select 1;');
  await t.rejects(migrate(client, db.sources), { code: 'bad_file_name' });
});
