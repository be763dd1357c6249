/**
 * A database of its own for each test file: cloned from the migrated template (fast), dropped
 * when the file's tests end. Connections for every role are handed out, so tests use the same
 * least-privileged roles as production.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Test } from 'tap';
import { ROLES, urlFor, type DatabaseUrls } from '../../devstack/bootstrap.js';
import { readHarness } from '../setup/harness.js';

function withDatabaseName(url: string, name: string) {
  const parsed = new URL(url);
  parsed.pathname = '/' + name;
  return parsed.toString();
}

export interface TestDatabase {
  name: string;
  urls: DatabaseUrls & { superuser: string };
  /** A pool connected as the migration owner, for arranging and inspecting state. */
  owner: pg.Pool;
  /** A pool connected as one role; ended before the database is dropped. */
  pool(role: keyof DatabaseUrls | 'superuser', max?: number): pg.Pool;
}

export async function makeTestDatabase(t: Test): Promise<TestDatabase> {
  const harness = readHarness();
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: harness.superuserUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name} template ${harness.template} owner ${ROLES.owner}`);
  } finally {
    await admin.end();
  }
  const urls = {
    owner: urlFor(harness.superuserUrl, ROLES.owner, harness.passwords.owner, name),
    api: urlFor(harness.superuserUrl, ROLES.api, harness.passwords.api, name),
    cdc: urlFor(harness.superuserUrl, ROLES.cdc, harness.passwords.cdc, name),
    renderer: urlFor(harness.superuserUrl, ROLES.renderer, harness.passwords.renderer, name),
    superuser: withDatabaseName(harness.superuserUrl, name),
  };
  const pools: pg.Pool[] = [];
  const pool = (role: keyof DatabaseUrls | 'superuser', max = 4) => {
    const created = new pg.Pool({ connectionString: urls[role], max });
    // The drop below terminates connections; an idle client reports that here, harmlessly.
    created.on('error', () => undefined);
    pools.push(created);
    return created;
  };
  const owner = pool('owner');
  t.teardown(async () => {
    await Promise.all(pools.map((p) => p.end().catch(() => undefined)));
    const drop = new pg.Client({ connectionString: harness.superuserUrl });
    await drop.connect();
    // A database with a replication slot cannot be dropped: end its streams, drop its slots.
    for (let attempt = 0; attempt < 50; attempt += 1) {
      await drop.query(
        `select pg_terminate_backend(active_pid) from pg_replication_slots where database = $1 and active`,
        [name],
      );
      const { rows } = await drop.query<{ slot_name: string }>(
        'select slot_name from pg_replication_slots where database = $1',
        [name],
      );
      if (rows.length === 0) break;
      for (const { slot_name } of rows) {
        await drop.query('select pg_drop_replication_slot($1)', [slot_name]).catch(() => undefined);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await drop.query(`drop database if exists ${name} with (force)`);
    await drop.end();
  });
  return { name, urls, owner, pool };
}

/**
 * Places one order straight through crs.place_order as the API role (no HTTP, no API
 * process): for tests of what happens to orders after they are placed. Returns the outcome.
 */
export async function placeOrderDirectly(
  db: TestDatabase,
  order: { orderId: string; productId: string; phone: string; firstName?: string; lastName?: string },
): Promise<string | undefined> {
  const { rows } = await db
    .pool('api')
    .query<{ outcome: string }>('select outcome from crs.place_order($1, $2, $3, $4, $5, $6, $7, $8)', [
      order.orderId,
      order.productId,
      order.phone,
      order.firstName ?? 'Aino',
      order.lastName ?? 'Virtanen',
      order.phone,
      randomBytes(32),
      randomBytes(16),
    ]);
  return rows[0]?.outcome;
}
