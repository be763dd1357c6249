/**
 * `crs renderer` as a process: fonts loaded once, the bucket set up, graphile-worker running
 * render_voucher with RENDERER_CONCURRENCY jobs at once, and the probe server.
 */
import { EventEmitter } from 'node:events';
import { run, type Runner, type WorkerEvents } from 'graphile-worker';
import type { RendererConfig } from '../common/config.js';
import { makePool } from '../common/db.js';
import { toGraphileLogger } from '../common/graphileLogger.js';
import type { Logger } from '../common/log.js';
import { makeObjectStore } from '../common/objectStore.js';
import { runChecks, startProbeServer, type ProbeServer } from '../common/probeServer.js';
import { setUpBucket } from './bucketSetup.js';
import { loadFonts } from './fonts.js';
import { makeRendererMetrics } from './metrics.js';
import { makeRenderVoucherTask } from './renderVoucherTask.js';
import { makeWorkerLiveness } from './workerLiveness.js';

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
    { connectionString: config.databaseUrl, applicationName: 'crs-renderer', max: config.concurrency + 2 },
    log,
  );
  const metrics = makeRendererMetrics({ defaultMetrics: true });
  const liveness = await makeWorkerLiveness(config.databaseUrl, log);
  // Listeners go on before run(): its workers are created (and announced) while it starts.
  const events: WorkerEvents = new EventEmitter();
  events.on('worker:create', ({ worker }) => {
    liveness
      .alive(worker.workerId)
      .catch((err: unknown) => log.warn({ err }, 'could not mark a worker alive'));
  });
  events.on('job:failed', ({ job, error }) => {
    if (job.attempts >= job.max_attempts) {
      metrics.jobsFailedForGood.inc();
      log.error(
        { err: error, jobId: job.id, payload: job.payload, attempts: job.attempts },
        'render job failed for good',
      );
    }
  });
  const runner = await run({
    events,
    pgPool: pool,
    concurrency: config.concurrency,
    noHandleSignals: true,
    pollInterval: 1_000,
    logger: toGraphileLogger(log),
    taskList: { render_voucher: makeRenderVoucherTask({ pool, store, fonts, log, metrics }) },
  });
  // Jobs left locked by renderers that died are taken up again now, not in four hours.
  await liveness.sweep().catch((err: unknown) => log.warn({ err }, 'dead worker sweep failed'));

  const probes = await startProbeServer({
    port: config.port,
    host: config.host,
    registry: metrics.registry,
    readiness: async () => {
      const { ready, checks } = await runChecks({
        postgres: () => pool.query('select 1').then(() => 'ok'),
        objectStore: () =>
          store.client.bucketExists(store.bucket).then((exists) => (exists ? 'ok' : 'bucket missing')),
      });
      return { ready, details: { checks } };
    },
  });

  let stopping: Promise<void> | undefined;
  return {
    runner,
    probes,
    stop() {
      stopping ??= (async () => {
        // Running jobs finish; none is taken after this.
        await runner.stop();
        await liveness.close();
        await probes.close();
        await pool.end();
      })();
      return stopping;
    },
  };
}
