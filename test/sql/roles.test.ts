/**
 * Least privilege, checked against the real database: each role can do exactly what its
 * component needs.
 */
import pg from 'pg';
import t from 'tap';
import { readHarness } from '../setup/harness.js';
import { makeTestDatabase } from '../support/database.js';

const db = await makeTestDatabase(t);

const as = async (role: 'api' | 'cdc' | 'renderer') => db.pool(role);

async function sqlstate(client: pg.Pool, sql: string): Promise<string> {
  try {
    await client.query(sql);
    return 'ok';
  } catch (err) {
    return (err as { code: string }).code;
  }
}

const DENIED = '42501';
const TABLES = ['crs.products', 'crs.stock_shards', 'crs.orders'];
/** Tables no role but the owner reads: the customer hash key and the audit trail. */
const OWNER_ONLY = ['crs.customer_key_secret', 'crs.audit_log'];

t.test('crs_api can neither read nor write any table', async (t) => {
  const api = await as('api');
  for (const table of TABLES) {
    t.equal(await sqlstate(api, `select * from ${table}`), DENIED, `select ${table}`);
    t.equal(await sqlstate(api, `delete from ${table}`), DENIED, `delete ${table}`);
    t.equal(await sqlstate(api, `update ${table} set product_id = product_id`), DENIED, `update ${table}`);
  }
  t.equal(
    await sqlstate(api, `insert into crs.products (product_id, name, total) values ('x', 'x', 1)`),
    DENIED,
  );
  t.equal(await sqlstate(api, `select * from crs_migrations.applied`), DENIED);
});

t.test('crs_api may execute only the API functions', async (t) => {
  const api = await as('api');
  t.equal(await sqlstate(api, `select * from crs.get_stock('default')`), 'ok');
  t.equal(await sqlstate(api, `select * from crs.get_order('whatever-id')`), 'ok');
  t.equal(
    await sqlstate(api, `select crs.spread_stock('default', 0, 32::smallint)`),
    DENIED,
    'internal helper',
  );
  t.equal(await sqlstate(api, `select crs.ensure_product('x', 'x', 5)`), DENIED, 'migration seed');
  t.equal(await sqlstate(api, `create table crs.mine (id int)`), DENIED, 'no DDL');
  t.equal(await sqlstate(api, `create table public.mine (id int)`), DENIED, 'no DDL in public');
});

t.test('crs_cdc reads the replicated tables and writes nothing', async (t) => {
  const cdc = await as('cdc');
  for (const table of TABLES) {
    t.equal(await sqlstate(cdc, `select count(*) from ${table}`), 'ok', `select ${table}`);
    t.equal(await sqlstate(cdc, `delete from ${table}`), DENIED, `delete ${table}`);
  }
  t.equal(
    await sqlstate(
      cdc,
      `select * from crs.place_order('cdc-order-01', 'default', '+358401234567', 'a', 'b', '+358401234567', '\\x00'::bytea, '\\x00'::bytea)`,
    ),
    DENIED,
  );
  const { rows } = await cdc.query(`select rolreplication from pg_roles where rolname = current_user`);
  t.equal(rows[0].rolreplication, true, 'may stream logical replication');
});

t.test('crs_renderer touches no table directly', async (t) => {
  const renderer = await as('renderer');
  for (const table of TABLES) {
    t.equal(await sqlstate(renderer, `select * from ${table}`), DENIED, `select ${table}`);
  }
  t.equal(await sqlstate(renderer, `select * from crs.upsert_product('x', 'x', 1)`), DENIED);
});

t.test('the job queue: the renderer works it, nobody else touches it directly', async (t) => {
  const renderer = await as('renderer');
  t.equal(await sqlstate(renderer, 'select count(*) from graphile_worker._private_jobs'), 'ok');
  t.equal(await sqlstate(renderer, "select * from crs.voucher_render_data('whatever-id')"), 'ok');
  t.equal(await sqlstate(renderer, "select crs.record_voucher('whatever-id', 'orders/x.pdf')"), 'ok');
  t.equal(await sqlstate(renderer, "select * from crs.redeem_voucher('X', 'me')"), DENIED, 'no redemption');
  const api = await as('api');
  t.equal(await sqlstate(api, 'select count(*) from graphile_worker._private_jobs'), DENIED);
  t.equal(await sqlstate(api, 'select count(*) from graphile_worker.jobs'), DENIED, 'nor its public view');
  t.equal(await sqlstate(api, "select crs.record_voucher('whatever-id', 'orders/x.pdf')"), DENIED);
  t.equal(
    await sqlstate(api, "select * from crs.redeem_voucher('X', 'me')"),
    'ok',
    'staff redeem through the API',
  );
  const cdc = await as('cdc');
  t.equal(await sqlstate(cdc, 'select count(*) from graphile_worker._private_jobs'), DENIED);
  t.equal(await sqlstate(cdc, 'select count(*) from graphile_worker.jobs'), DENIED, 'nor its public view');
  t.equal(
    await sqlstate(cdc, 'select crs.enqueue_render_jobs(array[]::text[])'),
    'ok',
    'enqueue only through crs',
  );
});

t.test('no role but the owner may log in as a superuser or create roles', async (t) => {
  const { rows } = await db.owner.query(
    `select rolname, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls from pg_roles
      where rolname in ('crs_api', 'crs_cdc', 'crs_renderer', 'crs_owner') order by rolname`,
  );
  for (const row of rows) {
    t.same(
      [row.rolsuper, row.rolcreaterole, row.rolcreatedb, row.rolbypassrls],
      [false, false, false, false],
      row.rolname,
    );
  }
});

t.test('the Postgres exporter (pg_monitor) sees two aggregates and no table', async (t) => {
  const superuser = db.pool('superuser', 2);
  const client = await superuser.connect();
  t.teardown(() => client.release());
  // Roles are cluster-wide: a name of this file's own.
  const exporter = `exporter_${db.name}`;
  await client.query(`create role ${exporter} in role pg_monitor`);
  t.teardown(() => superuser.query(`drop role if exists ${exporter}`));
  await client.query(`set role ${exporter}`);
  const stock = await client.query<{ product_id: string; total: number; remaining: number }>(
    'select * from crs.monitoring_stock()',
  );
  t.match(stock.rows, [{ product_id: 'default', total: Number, remaining: Number }]);
  const jobs = await client.query('select * from crs.monitoring_render_jobs()');
  t.match(jobs.rows, [{ pending: '0', failed: '0', oldest_waiting_seconds: 0 }]);
  for (const table of [...TABLES, 'graphile_worker._private_jobs', 'graphile_worker.jobs']) {
    const state = await client.query(`select 1 from ${table} limit 1`).then(
      () => 'ok',
      (err: { code: string }) => err.code,
    );
    t.equal(state, DENIED, `no select on ${table}`);
  }
  await client.query('reset role');
});

t.test(
  "the hash key and the audit trail are the owner's alone; each role its own privacy functions",
  async (t) => {
    const api = await as('api');
    const cdc = await as('cdc');
    const renderer = await as('renderer');
    for (const [name, pool] of [
      ['api', api],
      ['cdc', cdc],
      ['renderer', renderer],
    ] as const) {
      for (const table of OWNER_ONLY) {
        t.equal(await sqlstate(pool, `select * from ${table}`), DENIED, `${name}: select ${table}`);
      }
      t.equal(
        await sqlstate(
          pool,
          `insert into crs.audit_log (actor_role, actor_id, action, subject) values ('admin', 'x', 'redeem', 'x')`,
        ),
        DENIED,
        `${name}: no forged audit entries`,
      );
      t.equal(
        await sqlstate(pool, `select crs.customer_key_hash('+358401234567')`),
        DENIED,
        `${name}: no hashing oracle`,
      );
      t.equal(
        await sqlstate(pool, `select crs.write_audit(null, 'redeem', 'x', '{}')`),
        DENIED,
        `${name}: entries only with the change`,
      );
    }
    t.equal(
      await sqlstate(api, 'select * from crs.read_audit_log(10, null)'),
      'ok',
      'the admin page reads the trail',
    );
    t.equal(await sqlstate(cdc, 'select * from crs.read_audit_log(10, null)'), DENIED);
    t.equal(await sqlstate(renderer, 'select * from crs.read_audit_log(10, null)'), DENIED);
    t.equal(
      await sqlstate(renderer, 'select crs.purge_personal_data(30, 90, 10)'),
      'ok',
      'the renderer purges',
    );
    t.equal(await sqlstate(api, 'select crs.purge_personal_data(30, 90, 10)'), DENIED);
    t.equal(await sqlstate(cdc, 'select crs.purge_personal_data(30, 90, 10)'), DENIED);
  },
);

t.test(
  'the whole list: each role may execute exactly its functions and touch exactly its tables',
  async (t) => {
    // Read from the catalog, so a grant added anywhere (a migration, a sql/ file, an extension)
    // shows up here and has to be justified by changing this list.
    const roles = ['crs_api', 'crs_cdc', 'crs_renderer'];
    const { rows: functions } = await db.owner.query<{ role: string; names: string[] }>(
      `select r as role, array_agg(distinct p.proname::text order by p.proname::text) as names
       from unnest($1::text[]) r, pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = 'crs' and has_function_privilege(r, p.oid, 'EXECUTE')
        -- pgcrypto's and pg_trgm's own functions (gen_random_bytes, hmac, similarity, the
        -- trigram index support) stay executable by PUBLIC as the extensions install them:
        -- they read no table, reveal nothing and change nothing.
        and not exists (select from pg_depend d join pg_extension e on e.oid = d.refobjid
                         where d.objid = p.oid and d.deptype = 'e'
                           and e.extname in ('pgcrypto', 'pg_trgm'))
      group by r`,
      [roles],
    );
    const executable = Object.fromEntries(functions.map((row) => [row.role, row.names]));
    t.same(executable['crs_api'], [
      // The admin page's CSV export (all of a product's orders, page by page).
      'export_orders',
      // The staff desk's view of a coupon: names, product, who redeemed it (sql/vouchers.sql).
      'get_desk_voucher',
      'get_order',
      'get_stock',
      'get_voucher',
      'orders_page',
      'orders_with_vouchers',
      // The admin page's live pipeline panel (sql/admin.sql).
      'pipeline_status',
      'place_order',
      'place_orders',
      'products_page',
      'read_audit_log',
      'redeem_voucher',
      // Readiness compares it with the migrations the release ships (common/schemaVersion.ts).
      'schema_version',
      'search_orders',
      'upsert_product',
    ]);
    t.same(executable['crs_cdc'], [
      'enqueue_missing_render_jobs',
      'enqueue_render_jobs',
      'schema_version',
      'stock_snapshot',
    ]);
    t.same(executable['crs_renderer'], [
      // Worker pool leases (sql/renderer_leases.sql): the table itself stays out of reach.
      'end_renderer_leases',
      'purge_personal_data',
      'record_voucher',
      'render_job_held',
      'renew_renderer_leases',
      'schema_version',
      'unlock_lapsed_renderer_jobs',
      'voucher_render_data',
    ]);

    const { rows: tables } = await db.owner.query<{ role: string; grants: string[] }>(
      `select r as role, array_agg(c.relname::text || ':' || priv order by c.relname, priv) as grants
       from unnest($1::text[]) r, pg_class c join pg_namespace n on n.oid = c.relnamespace,
            unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) priv
      where n.nspname = 'crs' and c.relkind in ('r', 'v', 'm', 'p') and has_table_privilege(r, c.oid, priv)
      group by r`,
      [roles],
    );
    const touchable = Object.fromEntries(tables.map((row) => [row.role, row.grants]));
    t.equal(touchable['crs_api'], undefined, 'the API: no table at all');
    t.same(touchable['crs_cdc'], ['orders:SELECT', 'products:SELECT', 'stock_shards:SELECT'], 'CDC: reads');
    t.equal(touchable['crs_renderer'], undefined, 'the renderer: no crs table');
  },
);

// Our pg_hba (devstack/postgres.ts); a server given through DATABASE_URL has its own.
const ownServer = readHarness().startedServer;
t.test(
  'crs_cdc streams logically but cannot open a physical replication connection',
  {
    skip: !ownServer && 'the test Postgres was given (DATABASE_URL), not started by the project',
  },
  async (t) => {
    const connect = async (replication: string) => {
      const client = new pg.Client({ connectionString: db.urls.cdc, replication } as pg.ClientConfig);
      try {
        await client.connect();
        const { rows } = await client.query('IDENTIFY_SYSTEM');
        return rows.length === 1 ? 'ok' : 'no answer';
      } catch (err) {
        return (err as { code?: string }).code ?? String(err);
      } finally {
        await client.end().catch(() => undefined);
      }
    };
    // 28000 invalid_authorization_specification: no pg_hba line lets it in (pg_basebackup
    // as crs_cdc would have copied the whole cluster, secrets included).
    t.equal(await connect('true'), '28000', 'physical replication refused');
    t.equal(await connect('database'), 'ok', 'logical replication (what CDC uses) allowed');
  },
);
