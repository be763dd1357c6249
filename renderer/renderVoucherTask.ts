/**
 * The graphile-worker task `render_voucher` (payload {"orderId"}): read the order, draw the
 * voucher, store it in the bucket under a key derived from the order id, and record it in
 * Postgres (the order becomes voucher_ready). Every step is idempotent: running it again for
 * the same order draws identical bytes to the same key and records nothing new.
 *
 * A failing upload is retried here a few times with backoff and jitter; after that the job
 * fails and graphile-worker retries it later with its own exponential backoff. A malformed
 * payload fails the job for good at once (retireMalformedJob).
 */
import type { Task } from 'graphile-worker';
import { backoffMs, sleep } from '../common/backoff.js';
import type { Pool } from '../common/db.js';
import type { Logger } from '../common/log.js';
import type { ObjectStore } from '../common/objectStore.js';
import type { FontSet } from './fonts.js';
import type { RendererMetrics } from './metrics.js';
import { MalformedJobPayloadError, parseRenderVoucherPayload } from './jobPayloads.js';
import { renderVoucher, type VoucherData } from './voucherPdf.js';
import type { WorkerLiveness } from './workerLiveness.js';

export interface TaskDeps {
  pool: Pool;
  store: ObjectStore;
  fonts: FontSet;
  log: Logger;
  metrics: RendererMetrics;
  liveness: Pick<WorkerLiveness, 'held'>;
}

/**
 * This renderer's pool no longer holds the job: its lease lapsed (it was frozen or cut off)
 * and another renderer took the job. Thrown, not returned: a completion would delete the job
 * by id under the renderer that runs it now, while graphile-worker records a failure only for
 * the pool that holds the job, so this one changes nothing.
 */
export class JobTakenOverError extends Error {
  override name = 'JobTakenOverError';
}

const UPLOAD_ATTEMPTS = 3;

interface OrderRow {
  product_name: string;
  first_name: string;
  last_name: string;
  coupon_code: string;
  created_at: Date;
}

/**
 * What the order's voucher shows (crs.voucher_render_data). CDC may queue the job a moment
 * before the order's commit is visible to other sessions (milliseconds); a few short looks
 * cover that without paying for graphile-worker's seconds-long retry backoff.
 */
export async function readVoucherData(pool: Pool, orderId: string): Promise<VoucherData | undefined> {
  for (let look = 0; look < 5; look += 1) {
    const { rows } = await pool.query<OrderRow>('select * from crs.voucher_render_data($1)', [orderId]);
    const row = rows[0];
    if (row) {
      return {
        orderId,
        productName: row.product_name,
        firstName: row.first_name,
        lastName: row.last_name,
        couponCode: row.coupon_code,
        createdAt: row.created_at,
      };
    }
    await sleep(20 * 2 ** look);
  }
  return undefined;
}

/**
 * A job whose payload no retry can fix fails for good now rather than after its 25 attempts
 * (days of backoff). graphile-worker 0.17 has no non-retryable error, and its
 * permanently_fail_jobs skips locked jobs (this one is locked by us while it runs), but
 * remove_job on a running job's key is documented to stop it from running again (its
 * attempts set to max_attempts, its key cleared). The error thrown afterwards is recorded as
 * the job's last_error, so the job stays in graphile_worker.jobs as a failed one
 * (crs.monitoring_render_jobs counts it). A job without a key (only ever added by hand) cannot
 * be found that way and is retried until its attempts run out, failing the same way each time.
 */
async function retireMalformedJob(
  deps: TaskDeps,
  job: { id: string; key: string | null },
  payload: unknown,
  err: MalformedJobPayloadError,
): Promise<never> {
  if (job.key !== null) {
    await deps.pool.query('select graphile_worker.remove_job($1)', [job.key]);
    deps.metrics.jobsFailedForGood.inc();
  }
  deps.log.error(
    { err, code: err.code, jobId: job.id, payload },
    'render_voucher job with a malformed payload failed',
  );
  throw err;
}

export function makeRenderVoucherTask(deps: TaskDeps): Task<'render_voucher'> {
  return async (payload, helpers) => {
    // Typed by its declaration, but written by SQL: checked before it is trusted.
    let orderId: string;
    try {
      ({ orderId } = parseRenderVoucherPayload(payload));
    } catch (err) {
      if (!(err instanceof MalformedJobPayloadError)) throw err;
      return retireMalformedJob(deps, helpers.job, payload, err);
    }
    const log = deps.log.child({ orderId, jobId: helpers.job.id, attempt: helpers.job.attempts });
    const data = await readVoucherData(deps.pool, orderId);
    if (!data) {
      // The job came from a committed order, which may not be visible for a moment (CDC can
      // decode a commit just before it is): fail this attempt, graphile-worker retries soon.
      throw new Error(`order ${orderId} not found (not visible yet?)`);
    }
    const endRender = deps.metrics.renderSeconds.startTimer();
    const voucher = await renderVoucher(data, deps.fonts);
    endRender();
    if (voucher.missing.length > 0) {
      deps.metrics.missingGlyphs.inc();
      log.warn(
        { missing: voucher.missing },
        'no embedded font has these characters; they are not on the voucher',
      );
    }

    // The fence: a renderer woken after its lease lapsed stores nothing another one may be
    // storing (one PUT, one bucket notification per voucher).
    const { locked_by: pool } = helpers.job;
    if (pool && !(await deps.liveness.held(helpers.job.id, pool))) {
      log.warn('job taken over by another renderer while this one was frozen or cut off; not stored');
      throw new JobTakenOverError(`render job ${helpers.job.id} is no longer held by ${pool}`);
    }
    let stored: { key: string; created: boolean } | undefined;
    for (let attempt = 1; !stored; attempt += 1) {
      const endUpload = deps.metrics.uploadSeconds.startTimer();
      try {
        stored = await deps.store.putVoucher(orderId, voucher.pdf);
        endUpload();
      } catch (err) {
        deps.metrics.attemptsFailed.inc({ stage: 'upload' });
        if (attempt >= UPLOAD_ATTEMPTS) throw new Error(`upload of ${orderId} failed`, { cause: err });
        const wait = backoffMs(attempt, 200);
        log.warn({ err, retryInMs: Math.round(wait) }, 'voucher upload failed; retrying');
        await sleep(wait);
      }
    }
    await deps.pool.query('select crs.record_voucher($1, $2)', [orderId, stored.key]);
    if (!stored.created) {
      // Another renderer stored it and could not record it (cut off, or killed, right after
      // its upload): that object, announced once already, is the voucher.
      log.warn(
        { key: stored.key },
        'voucher was already stored by another renderer; recorded, not stored again',
      );
      return;
    }
    deps.metrics.rendered.inc();
    log.info({ key: stored.key, bytes: voucher.pdf.length }, 'voucher stored');
  };
}
