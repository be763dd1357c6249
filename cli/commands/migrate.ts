import pg from 'pg';
import { loadMigrateConfig } from '../../common/config.js';
import { makeLogger } from '../../common/log.js';
import { migrationsDir, sqlDir } from '../../common/paths.js';
import { runMigrations } from '../../migrations/migrateDatabase.js';
import { migrationPlan, migrationStatus } from '../../migrations/runner.js';
import { UsageError, wantsHelp, type Command } from '../command.js';

export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'apply database migrations (or `crs migrate status`)',
  help: `Usage: crs migrate [plan | status [--json]]

Applies graphile-worker's own migrations (the render job queue, schema graphile_worker), then
the versioned migrations in migrations/ in order, then the repeatable scripts in sql/
whose content changed, each in its own transaction (or statement by statement, for a file
whose first lines say -- crs:no-transaction), recorded with a SHA-256 checksum in
crs_migrations.applied. Every statement runs under lock_timeout and statement_timeout; a file
that times out waiting for a lock is tried again with backoff. Refuses to run when an applied
migration was edited or deleted. Concurrent runs take turns (advisory lock). Then creates the
default product with STOCK units if it does not exist yet. How to write migrations for a live
database: docs/migrations.md.

  crs migrate                 apply what is pending
  crs migrate plan            print what would be applied, in order, with its SQL; apply nothing
  crs migrate status          list applied, pending and changed files; exit 1 if any is not applied
  crs migrate status --json   the same as a JSON array of {kind, name, state, appliedAt}

Environment: DATABASE_URL (the migration owner), MIGRATE_LOCK_TIMEOUT_MS (5000; 0 off),
MIGRATE_STATEMENT_TIMEOUT_MS (900000; 0 off), MIGRATE_LOCK_RETRIES (5), STOCK,
DEFAULT_PRODUCT_ID, DEFAULT_PRODUCT_NAME, LOG_LEVEL.`,
  async run(args, env) {
    if (wantsHelp(args)) {
      console.log(this.help);
      return 0;
    }
    const [sub, ...rest] = args;
    const known =
      sub === undefined ||
      (sub === 'plan' && rest.length === 0) ||
      (sub === 'status' && (rest.length === 0 || (rest.length === 1 && rest[0] === '--json')));
    if (!known) throw new UsageError(`unknown arguments: ${args.join(' ')} (see crs migrate --help)`);
    const config = loadMigrateConfig(env);
    const log = makeLogger({ level: config.logLevel, component: 'migrate', format: config.logFormat });
    if (sub === 'status' || sub === 'plan') {
      const client = new pg.Client({ connectionString: config.databaseUrl, application_name: 'crs-migrate' });
      await client.connect();
      try {
        if (sub === 'plan') {
          const due = await migrationPlan(client, { migrationsDir, sqlDir });
          if (due.length === 0) console.log('-- nothing to apply: the database is up to date');
          for (const file of due) {
            const dir = file.kind === 'versioned' ? 'migrations' : 'sql';
            console.log(
              `-- ${file.kind} ${dir}/${file.name}${file.transactional ? '' : ' (no transaction)'}`,
            );
            console.log(file.sql.trimEnd(), '\n');
          }
          return 0;
        }
        const statuses = await migrationStatus(client, { migrationsDir, sqlDir });
        if (rest[0] === '--json') console.log(JSON.stringify(statuses));
        else {
          for (const s of statuses) {
            const when = s.appliedAt ? s.appliedAt.toISOString() : '';
            console.log(`${s.state.padEnd(8)} ${s.kind.padEnd(10)} ${s.name.padEnd(32)} ${when}`);
          }
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
