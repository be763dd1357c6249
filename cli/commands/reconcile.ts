import { Redis } from 'ioredis';
import { loadCdcConfig } from '../../common/config.js';
import { makePool } from '../../common/db.js';
import { makeLogger } from '../../common/log.js';
import { reconcile } from '../../cdc/reconcile.js';
import { wantsHelp, type Command } from '../command.js';

export const reconcileCommand: Command = {
  name: 'reconcile',
  summary: 'rebuild everything derived from Postgres (stock flags, render jobs)',
  help: `Usage: crs reconcile

Rebuilds what is derived from Postgres without trusting the replication slot: every
product's stock flag in Redis/Dragonfly from the tables, and a render_voucher job for every
order that has no stored voucher. Safe at any time, also while crs cdc runs (newer changes
win by commit LSN; jobs are keyed by order id). crs cdc runs it by itself when it had to
create its slot. Run it by hand after a wiped or replaced Redis/Dragonfly, or after restoring
the database from a backup.

Environment: CDC_DATABASE_URL or DATABASE_URL (role crs_cdc), REDIS_URL, LOG_LEVEL.`,
  async run(args, env) {
    if (wantsHelp(args)) {
      console.log(this.help);
      return 0;
    }
    const config = loadCdcConfig({ AMQP_URL: 'amqp://unused', ...env });
    const log = makeLogger({ level: config.logLevel, component: 'reconcile', format: config.logFormat });
    const pool = makePool(
      { connectionString: config.databaseUrl, applicationName: 'crs-reconcile', max: 2 },
      log,
    );
    const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2 });
    try {
      const result = await reconcile({ pool, redis });
      log.info(result, 'reconciled');
      console.log(JSON.stringify(result));
      return 0;
    } finally {
      redis.disconnect();
      await pool.end();
    }
  },
};
