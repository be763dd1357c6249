/**
 * The graphile-worker cron task `purge_personal_data`: once a day, the names and phone numbers
 * of orders whose voucher was redeemed, or expired from the bucket, more than
 * PII_RETENTION_DAYS days ago are removed by crs.purge_personal_data (sql/privacy.sql). The
 * customer key stays (a keyed hash of the phone), so one order per customer per product still
 * holds. Logs how many orders were purged, never which or whose.
 *
 * It runs in the renderer because the renderer already runs graphile-worker with a role that
 * may execute the purge (and nothing else of it). graphile-worker's cron schedules each day's
 * run once however many renderers there are, and catches up on a run missed while none was up.
 */
import { parseCronItems, type ParsedCronItem, type Task } from 'graphile-worker';
import type { Pool } from '../common/db.js';
import type { Logger } from '../common/log.js';

export const PURGE_TASK = 'purge_personal_data';
/** Every day at 03:17 UTC: off the hour, when sales are usually quiet. */
export const PURGE_SCHEDULE = '17 3 * * *';
/** Orders purged per transaction: short row locks next to live redemptions. */
const PURGE_BATCH = 1000;
const DAY_MS = 24 * 3600 * 1000;

export interface PurgeDeps {
  pool: Pool;
  log: Logger;
  /** Days after redemption or voucher expiry (PII_RETENTION_DAYS). */
  retentionDays: number;
  /** When vouchers expire from the bucket (VOUCHER_EXPIRY_DAYS). */
  voucherExpiryDays: number;
  batchSize?: number;
}

/** Purges everything due now, batch by batch; returns how many orders were purged. */
export async function purgePersonalData(deps: PurgeDeps): Promise<number> {
  const batch = deps.batchSize ?? PURGE_BATCH;
  let total = 0;
  for (;;) {
    const { rows } = await deps.pool.query<{ purged: number }>(
      'select crs.purge_personal_data($1, $2, $3) as purged',
      [deps.retentionDays, deps.voucherExpiryDays, batch],
    );
    const purged = rows[0]?.purged ?? 0;
    total += purged;
    // A short batch means nothing more is due (rows locked by a redemption come up tomorrow).
    if (purged < batch) return total;
  }
}

export function makePurgePersonalDataTask(deps: PurgeDeps): Task<typeof PURGE_TASK> {
  return async (_payload, helpers) => {
    const started = Date.now();
    const purged = await purgePersonalData(deps);
    deps.log.info(
      { purged, retentionDays: deps.retentionDays, jobId: helpers.job.id, ms: Date.now() - started },
      'personal data purged',
    );
  };
}

/** The daily schedule, for graphile-worker's run({ parsedCronItems }). */
export function purgeCronItems(): ParsedCronItem[] {
  return parseCronItems([
    {
      task: PURGE_TASK,
      match: PURGE_SCHEDULE,
      identifier: PURGE_TASK,
      options: {
        // A renderer that was down at 03:17 runs the day's purge when it comes back.
        backfillPeriod: DAY_MS,
        maxAttempts: 5,
        // At most one purge queued: a run still waiting is replaced, not doubled.
        jobKey: PURGE_TASK,
        jobKeyMode: 'replace',
      },
    },
  ]);
}
