// The payload of each graphile-worker task this project runs: the one declaration of what a
// job carries. graphile-worker merges it into its own types, so `Task<'render_voucher'>` and
// `addJob('render_voucher', …)` check against it. Jobs are queued in SQL
// (crs.enqueue_render_jobs, sql/job_queue.sql, builds render_voucher's payload) and by
// graphile-worker's cron, so the renderer still validates every payload it is handed
// (renderer/jobPayloads.ts); test/renderer/jobPayloads.test.ts checks the SQL-built payload
// against this type.
import type { CronJob } from 'graphile-worker';

declare global {
  namespace GraphileWorker {
    interface Tasks {
      /** Queued by crs.enqueue_render_jobs with the key `render_voucher:<orderId>`. */
      render_voucher: {
        /** crs.orders.order_id of an order waiting for its voucher. */
        orderId: string;
      };
      /** Queued by graphile-worker's cron (renderer/purgePersonalData.ts); the task reads nothing of it. */
      purge_personal_data: CronJob['payload'];
    }
  }
}
