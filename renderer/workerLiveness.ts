/**
 * Jobs of a renderer that died (kill -9, a lost node) must not wait for graphile-worker's
 * four-hour lock expiry. Each of our worker pools (graphile-worker 0.17 locks a job under the
 * id of the pool whose worker runs it: `locked_by` is a pool id) holds a session advisory
 * lock named after that id on a connection of its own while it lives; at start and every
 * minute, a renderer looks at the ids holding jobs, and one whose lock can be taken is dead: its
 * jobs are unlocked (graphile_worker.force_unlock_workers) and run again elsewhere. A job
 * unlocked a moment too early runs twice, which rendering's idempotence makes harmless.
 * The session survives Postgres restarting: the next use opens a new one and takes the locks
 * of our live workers again.
 */
import pg from 'pg';
import type { Logger } from '../common/log.js';

const SWEEP_MS = 60_000;
const key = (workerId: string) => `crs.renderer.worker:${workerId}`;

export interface WorkerLiveness {
  /** Marks a worker of this process alive for as long as the process lives. */
  alive(workerId: string): Promise<void>;
  /**
   * Workers of this process that are gone (their runner stopped): their locks are let go and
   * the jobs they held are unlocked now, so they run again without waiting for a sweep.
   */
  retire(workerIds: string[]): Promise<void>;
  /** Unlocks the jobs of workers that are not alive; returns their ids. */
  sweep(): Promise<string[]>;
  close(): Promise<void>;
}

export async function makeWorkerLiveness(connectionString: string, log: Logger): Promise<WorkerLiveness> {
  const ours = new Set<string>();
  let closed = false;
  // The session whose advisory locks say "alive". Postgres restarting (or failing over) ends
  // it and every lock with it: the next use opens a new one and takes our locks again.
  let session: pg.Client | undefined;
  const open = async (): Promise<pg.Client> => {
    if (closed) throw new Error('worker liveness is closed');
    if (session) return session;
    const client = new pg.Client({ connectionString, application_name: 'crs-renderer-liveness' });
    const drop = () => {
      if (session === client) session = undefined;
    };
    client.on('error', (err) => {
      log.warn({ err }, 'liveness connection error');
      drop();
    });
    client.on('end', drop);
    await client.connect();
    for (const workerId of ours) {
      await client.query('select pg_advisory_lock(hashtextextended($1, 0))', [key(workerId)]);
    }
    session = client;
    return client;
  };
  await open();

  // One session, one query at a time.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: (session: pg.Client) => Promise<T>): Promise<T> => {
    const run = () => open().then(fn);
    const next = queue.then(run, run);
    queue = next.catch(() => undefined);
    return next;
  };

  const unlockJobsOf = (client: pg.Client, workerIds: string[]) =>
    client.query('select graphile_worker.force_unlock_workers($1::text[])', [workerIds]);

  const sweep = () =>
    serial(async (client) => {
      const { rows } = await client.query<{ locked_by: string }>(
        `select distinct locked_by from graphile_worker._private_jobs where locked_by is not null`,
      );
      const dead: string[] = [];
      for (const { locked_by: workerId } of rows) {
        if (ours.has(workerId)) continue;
        const { rows: got } = await client.query<{ ok: boolean }>(
          'select pg_try_advisory_lock(hashtextextended($1, 0)) as ok',
          [key(workerId)],
        );
        if (!got[0]?.ok) continue; // held: that worker lives
        await client.query('select pg_advisory_unlock(hashtextextended($1, 0))', [key(workerId)]);
        dead.push(workerId);
      }
      if (dead.length > 0) {
        await unlockJobsOf(client, dead);
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
      await serial((client) =>
        client.query('select pg_advisory_lock(hashtextextended($1, 0))', [key(workerId)]),
      );
    },
    async retire(workerIds) {
      for (const workerId of workerIds) ours.delete(workerId);
      await serial(async (client) => {
        for (const workerId of workerIds) {
          await client.query('select pg_advisory_unlock(hashtextextended($1, 0))', [key(workerId)]);
        }
        await unlockJobsOf(client, workerIds);
      });
    },
    sweep,
    async close() {
      closed = true;
      clearInterval(timer);
      await session?.end().catch(() => undefined);
    },
  };
}
