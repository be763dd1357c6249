/**
 * `crs renderer` as a process: fonts loaded once, the bucket set up, graphile-worker running
 * render_voucher with RENDERER_CONCURRENCY jobs at once and the daily purge_personal_data
 * (cron), and the probe server.
 */
import { EventEmitter } from 'node:events';
import { run, type Runner, type RunnerOptions, type WorkerEvents } from 'graphile-worker';
import { backoffMs, sleep } from '../common/backoff.js';
import type { RendererConfig } from '../common/config.js';
import { makePool } from '../common/db.js';
import { toGraphileLogger } from '../common/graphileLogger.js';
import type { Logger } from '../common/log.js';
import { makeObjectStore } from '../common/objectStore.js';
import { runChecks, startProbeServer, type ProbeServer } from '../common/probeServer.js';
import { checkSchema } from '../common/schemaVersion.js';
import { setUpBucket } from './bucketSetup.js';
import { loadFonts } from './fonts.js';
import { makeRendererMetrics } from './metrics.js';
import { PURGE_TASK, makePurgePersonalDataTask, purgeCronItems } from './purgePersonalData.js';
import { makeRenderVoucherTask } from './renderVoucherTask.js';
import { makeWorkerLiveness } from './workerLiveness.js';

/** How long a worker pool that gave up by itself may take to shut down before it is replaced. */
const STUCK_SHUTDOWN_MS = 15_000;

export interface RunningRenderer {
  runner: Runner;
  probes: ProbeServer;
  stop(): Promise<void>;
}

export async function startRenderer(config: RendererConfig, log: Logger): Promise<RunningRenderer> {
  const fonts = loadFonts();
  if (fonts.unreadable.length > 0) {
    log.warn({ files: fonts.unreadable }, 'font files that could not be read are skipped');
  }
  const store = makeObjectStore(config.objectStore);
  await setUpBucket(store, { notifyArn: config.notifyArn, expiryDays: config.voucherExpiryDays }, log);

  const pool = makePool(
    {
      connectionString: config.databaseUrl,
      applicationName: 'crs-renderer',
      max: config.concurrency + 2,
      network: config.network,
    },
    log,
  );
  const metrics = makeRendererMetrics({ defaultMetrics: true });
  const liveness = makeWorkerLiveness({
    pool,
    connectionString: config.databaseUrl,
    network: config.network,
    log,
    leaseMs: config.leaseMs,
  });
  let stopping: Promise<void> | undefined;
  // Listeners go on before run(): its workers are created (and announced) while it starts.
  const events: WorkerEvents = new EventEmitter();
  // The worker pool of the runner now running (a runner started again has a new one).
  // graphile-worker 0.17 locks every job under its pool's id, not the id of the worker running
  // it: marking only workers alive made each sweep unlock this process's running jobs too.
  let pools = new Set<string>();
  events.on('pool:create', ({ workerPool }) => {
    pools.add(workerPool.id);
    liveness
      .alive(workerPool.id)
      .catch((err: unknown) => log.warn({ err }, 'could not mark a worker pool alive'));
  });
  // A pool that gives up on its own (it could not record a job's outcome) says so here; the
  // runner it belongs to is replaced (keepRunning below).
  let gaveUp: () => void = () => undefined;
  events.on('pool:gracefulShutdown', ({ workerPool, message }) => {
    if (stopping) return;
    log.warn({ pool: workerPool.id, reason: message }, 'a graphile-worker pool is shutting down by itself');
    gaveUp();
  });
  events.on('job:start', () => metrics.jobsRunning.inc());
  events.on('job:complete', () => metrics.jobsRunning.dec());
  events.on('job:failed', ({ job, error }) => {
    if (job.task_identifier === PURGE_TASK) {
      // graphile-worker retries it with backoff; the next day's run starts afresh anyway.
      log.error({ err: error, jobId: job.id, attempts: job.attempts }, 'personal data purge failed');
      return;
    }
    if (job.attempts >= job.max_attempts) {
      metrics.jobsFailedForGood.inc();
      log.error(
        { err: error, jobId: job.id, payload: job.payload, attempts: job.attempts },
        'render job failed for good',
      );
    }
  });
  const runOptions: RunnerOptions = {
    events,
    pgPool: pool,
    concurrency: config.concurrency,
    noHandleSignals: true,
    pollInterval: 1_000,
    // Completions and failures go through graphile-worker's batcher, which retries them with
    // backoff (20 attempts, up to 30 s apart) while Postgres restarts or fails over. Unbatched,
    // a completion that meets a restarting server is a promise nobody awaits: the process
    // dies of an unhandled rejection. Batching them also saves a
    // round trip per job under load.
    // The local queue fetches (and locks) up to concurrency + 1 jobs in one query and hands
    // them to workers as they free up, instead of one query per job; a renderer killed, frozen
    // or cut off with jobs in it leaves them locked under its pool id until its lease lapses
    // and a sweep frees them (workerLiveness.ts).
    preset: {
      worker: {
        completeJobBatchDelay: 0,
        failJobBatchDelay: 0,
        localQueue: { size: config.concurrency + 1 },
      },
    },
    logger: toGraphileLogger(log),
    taskList: {
      render_voucher: makeRenderVoucherTask({ pool, store, fonts, log, metrics, liveness }),
      [PURGE_TASK]: makePurgePersonalDataTask({
        pool,
        log,
        retentionDays: config.piiRetentionDays,
        voucherExpiryDays: config.voucherExpiryDays,
      }),
    },
    parsedCronItems: purgeCronItems(),
  };
  let runner = await run(runOptions);

  // graphile-worker stops its runner for good when it cannot record a job's outcome (Postgres
  // away longer than its retries), and a runner does not come back by itself: this process
  // would stay up, ready, and render nothing. So a runner that stops
  // while we are not stopping is replaced, with backoff; the jobs its workers held are
  // unlocked at once for the new one.
  const keepRunning = async () => {
    while (!stopping) {
      // A pool shutting down after a fatal error may never finish: cut off from Postgres, its
      // release waits on queries that wait on the network, and the runner would stay
      // half-stopped after the network heals, rendering nothing. Past STUCK_SHUTDOWN_MS it is left behind and replaced; its
      // jobs are unlocked by ending its lease (retire), and anything it still does with one
      // is fenced (renderVoucherTask.ts).
      const stuck = new Promise<Error>((resolve) => {
        gaveUp = () =>
          setTimeout(
            () => resolve(new Error(`pool shutdown not finished after ${STUCK_SHUTDOWN_MS} ms; left behind`)),
            STUCK_SHUTDOWN_MS,
          ).unref();
      });
      const ended: unknown = await Promise.race([
        runner.promise.then(
          () => undefined,
          (err: unknown) => err,
        ),
        stuck,
      ]);
      if (stopping) return;
      log.error({ err: ended }, 'graphile-worker stopped by itself; starting it again');
      const gone = [...pools];
      pools = new Set();
      metrics.jobsRunning.set(0);
      liveness.retire(gone).catch((err: unknown) => log.warn({ err }, 'could not release the old workers'));
      for (let attempt = 0; !stopping; attempt += 1) {
        await sleep(backoffMs(attempt, 500, 10_000));
        try {
          runner = await run(runOptions);
          metrics.runnerRestarts.inc();
          break;
        } catch (err) {
          log.warn({ err, attempt }, 'graphile-worker could not start again; retrying');
        }
      }
    }
  };
  void keepRunning();
  // Jobs left locked by renderers whose lease lapsed are taken up again now, not in four hours.
  await liveness.sweep().catch((err: unknown) => log.warn({ err }, 'lapsed renderer lease sweep failed'));

  const probes = await startProbeServer({
    port: config.port,
    host: config.host,
    registry: metrics.registry,
    readiness: async () => {
      const { ready, checks } = await runChecks({
        postgres: () => checkSchema(pool),
        objectStore: () =>
          store.client.bucketExists(store.bucket).then((exists) => (exists ? 'ok' : 'bucket missing')),
      });
      return { ready, details: { checks } };
    },
  });

  return {
    get runner() {
      return runner;
    },
    probes,
    stop() {
      stopping ??= (async () => {
        // Running jobs finish; none is taken after this. (A runner that stopped by itself and
        // is being replaced refuses a second stop: nothing is lost by ignoring that.)
        await runner.stop().catch((err: unknown) => log.debug({ err }, 'runner already stopped'));
        // Our leases end now rather than lapse: anything still locked under them runs elsewhere.
        await liveness
          .retire([...pools])
          .catch((err: unknown) => log.warn({ err }, 'could not end our leases'));
        await liveness.close();
        await probes.close();
        await pool.end();
      })();
      return stopping;
    },
  };
}
