/**
 * Jobs of a renderer that died (kill -9, a lost node) must not wait for graphile-worker's
 * four-hour lock expiry. Each of our workers holds a session advisory lock named after its
 * worker id on a connection of its own while it lives; at start and every minute, a renderer
 * looks at the worker ids holding jobs, and a worker whose lock can be taken is dead: its
 * jobs are unlocked (graphile_worker.force_unlock_workers) and run again elsewhere. A job
 * unlocked a moment too early runs twice, which rendering's idempotence makes harmless.
 */
import pg from 'pg';
import type { Logger } from '../common/log.js';

const SWEEP_MS = 60_000;
const key = (workerId: string) => `crs.renderer.worker:${workerId}`;

export interface WorkerLiveness {
  /** Marks a worker of this process alive for as long as the process lives. */
  alive(workerId: string): Promise<void>;
  /** Unlocks the jobs of workers that are not alive; returns their ids. */
  sweep(): Promise<string[]>;
  close(): Promise<void>;
}

export async function makeWorkerLiveness(connectionString: string, log: Logger): Promise<WorkerLiveness> {
  const session = new pg.Client({ connectionString, application_name: 'crs-renderer-liveness' });
  session.on('error', (err) => log.warn({ err }, 'liveness connection error'));
  await session.connect();
  const ours = new Set<string>();
  // One session, one query at a time.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };

  const sweep = () =>
    serial(async () => {
      const { rows } = await session.query<{ locked_by: string }>(
        `select distinct locked_by from graphile_worker._private_jobs where locked_by is not null`,
      );
      const dead: string[] = [];
      for (const { locked_by: workerId } of rows) {
        if (ours.has(workerId)) continue;
        const { rows: got } = await session.query<{ ok: boolean }>(
          'select pg_try_advisory_lock(hashtextextended($1, 0)) as ok',
          [key(workerId)],
        );
        if (!got[0]?.ok) continue; // held: that worker lives
        await session.query('select pg_advisory_unlock(hashtextextended($1, 0))', [key(workerId)]);
        dead.push(workerId);
      }
      if (dead.length > 0) {
        await session.query('select graphile_worker.force_unlock_workers($1::text[])', [dead]);
        log.warn({ workers: dead }, 'unlocked the jobs of renderer workers that died');
      }
      return dead;
    });

  const timer = setInterval(() => {
    sweep().catch((err: unknown) => log.warn({ err }, 'dead worker sweep failed'));
  }, SWEEP_MS);
  timer.unref();

  return {
    async alive(workerId) {
      ours.add(workerId);
      await serial(() => session.query('select pg_advisory_lock(hashtextextended($1, 0))', [key(workerId)]));
    },
    sweep,
    async close() {
      clearInterval(timer);
      await session.end().catch(() => undefined);
    },
  };
}
