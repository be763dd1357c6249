import { spawn } from 'node:child_process';
import { join } from 'node:path';
import t from 'tap';
import { packageRoot } from '../../common/paths.js';
import { makeTestDatabase } from '../support/database.js';
import { placeOrders, waitFor } from '../support/cdc.js';

t.test('crs cdc wal prints committed changes as JSON lines through a temporary slot', async (t) => {
  const db = await makeTestDatabase(t);
  await db.owner.query(`select crs.upsert_product('tailed', 'Tailed', 10)`);
  const child = spawn(process.execPath, ['--import=tsx', join(packageRoot, 'cli', 'run.ts'), 'cdc', 'wal'], {
    env: { PATH: process.env['PATH'] ?? '', CDC_DATABASE_URL: db.urls.cdc },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const slots = async () =>
    (
      await db.owner.query<{ slot_name: string; temporary: boolean }>(
        `select slot_name, temporary from pg_replication_slots where database = current_database()`,
      )
    ).rows;
  const [slot] = await waitFor('the temporary slot', async () => {
    const found = await slots();
    return found.length === 1 ? found : undefined;
  });
  t.match(slot, { slot_name: /^crs_tail_/, temporary: true });

  const { reserved } = await placeOrders(db, { productId: 'tailed', count: 2 });
  const lines = await waitFor('two order inserts', async () => {
    const parsed = output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { table: string; op: string; row: { order_id?: string } });
    const inserts = parsed.filter((l) => l.table === 'orders' && l.op === 'insert');
    return inserts.length === 2 ? parsed : undefined;
  });
  t.same(
    lines
      .filter((l) => l.table === 'orders')
      .map((l) => l.row.order_id)
      .sort(),
    [...reserved].sort(),
  );
  t.ok(
    lines.some((l) => l.table === 'stock_shards' && l.op === 'update'),
    'stock changes too',
  );

  child.kill('SIGINT');
  t.equal(await exited, 0);
  await waitFor('the temporary slot to be gone', async () => (await slots()).length === 0);
});
