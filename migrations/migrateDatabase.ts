/**
 * Brings a database to the code's schema: graphile-worker's own migrations, then ours
 * (migrations/runner.ts), the job queue's grants, and the default product. What `crs migrate`,
 * `crs start` and the benchmarks' stack run.
 */
import { runMigrations as runGraphileWorkerMigrations } from 'graphile-worker';
import pg from 'pg';
import type { MigrateConfig } from '../common/config.js';
import { toGraphileLogger } from '../common/graphileLogger.js';
import type { Logger } from '../common/log.js';
import { migrationsDir, sqlDir } from '../common/paths.js';
import { migrate } from './runner.js';

/** Applies pending migrations, then creates the default product if it does not exist yet. */
export async function runMigrations(config: MigrateConfig, log: Logger) {
  // graphile-worker keeps its own schema and migrations; sql/job_queue.sql builds on them.
  await runGraphileWorkerMigrations({
    connectionString: config.databaseUrl,
    logger: toGraphileLogger(log),
  });
  const client = new pg.Client({ connectionString: config.databaseUrl, application_name: 'crs-migrate' });
  await client.connect();
  try {
    const result = await migrate(client, { migrationsDir, sqlDir }, (line) => log.info(line), config.live);
    await client.query('select crs.grant_job_queue_access()');
    const { rows } = await client.query<{ created: boolean }>(
      'select crs.ensure_product($1, $2, $3) as created',
      [config.defaultProductId, config.defaultProductName, config.stock],
    );
    if (rows[0]?.created) {
      log.info({ productId: config.defaultProductId, stock: config.stock }, 'default product created');
    }
    return result;
  } finally {
    await client.end();
  }
}
