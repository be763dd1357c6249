/**
 * Jobs of a renderer that died, hung (SIGSTOP) or lost the network must not wait for
 * graphile-worker's four-hour lock expiry. graphile-worker 0.17 locks a job under the id of
 * the worker pool whose worker runs it (`locked_by` is a pool id), so each pool of ours holds
 * a lease in crs.renderer_leases, renewed every leaseMs / 4 on a session of its own; every
 * renderer, at start and every two seconds, unlocks the jobs of pools whose lease lapsed or
 * whose renewing session is gone (a crash closes it: seen at once), and another renderer takes
 * them at its next poll (sql/renderer_leases.sql). A lease lapses on the database's clock
 * whatever the holder's sockets do: a session lock alone (what this was) stays held by a
 * frozen process's open connection, or a lost node's, for as long as the server's TCP
 * keepalive takes to give up.
 *
 * A pool woken after its lease lapsed may still hold jobs in memory: before storing a voucher
 * the task asks `held` (renderVoucherTask.ts), and a job taken over is not stored twice.
 */
import pg from 'pg';
import { backoffMs, sleep } from '../common/backoff.js';
import type { NetworkConfig } from '../common/config.js';
import { pgSocketOptions, type Pool } from '../common/db.js';
import type { Logger } from '../common/log.js';

export interface WorkerLiveness {
  /** Marks a worker pool of this process alive (its lease is taken now and renewed). */
  alive(workerId: string): Promise<void>;
  /**
   * Pools of this process that are gone (their runner stopped): their leases end and the
   * jobs they held are unlocked now, so they run again without waiting for a sweep.
   */
  retire(workerIds: string[]): Promise<void>;
  /** Unlocks the jobs of pools whose lease lapsed; returns those pools. */
  sweep(): Promise<string[]>;
  /**
   * Whether this pool still holds this job and will for a while: false when another renderer
   * may have it (its lease lapsed and the job was unlocked). An answer is trusted only if, when
   * it arrives, the lease is still valid by this process's own clock (renewal sent + lease,
   * less a tenth): a process frozen while the question was on its way gets a stale "yes", but
   * wakes with its clock past that bound, renews and asks again.
   */
  held(jobId: string, workerId: string): Promise<boolean>;
  close(): Promise<void>;
}

/** How often every renderer looks for pools whose lease is over (a crash is seen at once). */
const SWEEP_MS = 2_000;

export function makeWorkerLiveness(options: {
  pool: Pool;
  /** For the session leases are renewed on (its end ends them: crs.unlock_lapsed_renderer_jobs). */
  connectionString: string;
  network?: Partial<NetworkConfig>;
  log: Logger;
  leaseMs: number;
}): WorkerLiveness {
  const { pool, log, leaseMs } = options;
  const ours = new Set<string>();

  // The session that renews: opened again when it breaks (Postgres restarted); one renewal at
  // a time on it.
  let session: pg.Client | undefined;
  let renewing: Promise<unknown> = Promise.resolve();
  const openSession = async () => {
    if (session) return session;
    const client = new pg.Client({
      connectionString: options.connectionString,
      application_name: 'crs-renderer-lease',
      ...pgSocketOptions(options.network),
      query_timeout: options.network?.queryTimeoutMs ?? 10_000,
    });
    const drop = () => {
      if (session === client) session = undefined;
    };
    client.on('error', (err) => {
      log.warn({ err }, 'lease session error');
      drop();
    });
    client.on('end', drop);
    await client.connect();
    session = client;
    return client;
  };

  /** When the last renewal that succeeded was sent: no lease of ours lapses before + leaseMs. */
  let renewalSentAt = 0;
  const renew = (workerIds: string[]) => {
    const run = async () => {
      if (workerIds.length === 0) return;
      const sentAt = Date.now();
      const client = await openSession();
      await client.query('select crs.renew_renderer_leases($1::text[], $2)', [workerIds, leaseMs]);
      renewalSentAt = Math.max(renewalSentAt, sentAt);
    };
    const next = renewing.then(run, run);
    renewing = next.catch(() => undefined);
    return next;
  };
  const leaseValid = () => Date.now() < renewalSentAt + leaseMs * 0.9;
  const sweep = async () => {
    const { rows } = await pool.query<{ lapsed: string[] }>(
      'select crs.unlock_lapsed_renderer_jobs() as lapsed',
    );
    const lapsed = rows[0]?.lapsed ?? [];
    if (lapsed.length > 0)
      log.warn({ workers: lapsed }, 'unlocked the jobs of renderer pools whose lease lapsed');
    return lapsed;
  };

  const renewal = setInterval(() => {
    renew([...ours]).catch((err: unknown) => log.warn({ err }, 'renderer lease renewal failed'));
  }, leaseMs / 4);
  renewal.unref();
  const sweeping = setInterval(() => {
    sweep().catch((err: unknown) => log.warn({ err }, 'lapsed renderer lease sweep failed'));
  }, SWEEP_MS);
  sweeping.unref();

  return {
    async alive(workerId) {
      ours.add(workerId);
      await renew([workerId]);
    },
    async retire(workerIds) {
      for (const workerId of workerIds) ours.delete(workerId);
      // A runner stops by itself mostly when Postgres goes away (a restart): ending the leases
      // is retried until it goes through, or until they have lapsed anyway.
      const giveUp = Date.now() + leaseMs;
      for (let attempt = 0; ; attempt += 1) {
        try {
          await pool.query('select crs.end_renderer_leases($1::text[])', [workerIds]);
          return;
        } catch (err) {
          if (Date.now() >= giveUp) throw err;
          await sleep(backoffMs(attempt, 100, 1_000));
        }
      }
    },
    sweep,
    async held(jobId, workerId) {
      for (;;) {
        const { rows } = await pool.query<{ held: boolean }>(
          'select crs.render_job_held($1::bigint, $2) as held',
          [jobId, workerId],
        );
        if (rows[0]?.held !== true) return false;
        if (leaseValid()) return true;
        await renew([...ours]);
      }
    },
    async close() {
      clearInterval(renewal);
      clearInterval(sweeping);
      await session?.end().catch(() => undefined);
      // The leases lapse on their own; a clean stop retires its pools first (service.ts).
    },
  };
}
