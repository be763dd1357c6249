import { runMigrations as runGraphileWorkerMigrations } from 'graphile-worker';
import pg from 'pg';
import { loadMigrateConfig, type MigrateConfig } from '../../common/config.js';
import { toGraphileLogger } from '../../common/graphileLogger.js';
import { makeLogger, type Logger } from '../../common/log.js';
import { migrationsDir, sqlDir } from '../../common/paths.js';
import { migrate, migrationStatus } from '../../migrations/runner.js';
import { UsageError, wantsHelp, type Command } from '../command.js';

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
    const result = await migrate(client, { migrationsDir, sqlDir }, (line) => log.info(line));
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

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'apply database migrations (or `crs migrate status`)',
  help: `Usage: crs migrate [status]

Applies graphile-worker's own migrations (the render job queue, schema graphile_worker), then
the versioned migrations in migrations/ in order, then the repeatable scripts in sql/
whose content changed, each in its own transaction, recorded with a SHA-256 checksum in
crs_migrations.applied. Refuses to run when an applied migration was edited or deleted.
Concurrent runs take turns (advisory lock). Then creates the default product with STOCK units
if it does not exist yet.

  crs migrate           apply what is pending
  crs migrate status    list applied, pending and changed files; exit 1 if any is not applied

Environment: DATABASE_URL (the migration owner), STOCK, DEFAULT_PRODUCT_ID,
DEFAULT_PRODUCT_NAME, LOG_LEVEL.`,
  async run(args, env) {
    if (wantsHelp(args)) {
      console.log(this.help);
      return 0;
    }
    if (args.length > 1 || (args[0] !== undefined && args[0] !== 'status')) {
      throw new UsageError(`unknown arguments: ${args.join(' ')} (see crs migrate --help)`);
    }
    const config = loadMigrateConfig(env);
    const log = makeLogger({ level: config.logLevel, component: 'migrate', format: config.logFormat });
    if (args[0] === 'status') {
      const client = new pg.Client({ connectionString: config.databaseUrl });
      await client.connect();
      try {
        const statuses = await migrationStatus(client, { migrationsDir, sqlDir });
        for (const s of statuses) {
          const when = s.appliedAt ? s.appliedAt.toISOString() : '';
          console.log(`${s.state.padEnd(8)} ${s.kind.padEnd(10)} ${s.name.padEnd(32)} ${when}`);
        }
        return statuses.every((s) => s.state === 'applied') ? 0 : 1;
      } finally {
        await client.end();
      }
    }
    const result = await runMigrations(config, log);
    log.info({ applied: result.applied.length }, 'migrations up to date');
    return 0;
  },
};
