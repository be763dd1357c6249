/**
 * A graphile-worker 0.17 failure that must not end the process. When a worker pool stops
 * because it could not record a job's outcome (Postgres cut off or away past its retries), its
 * local queue tries to hand back the jobs it had fetched; if that fails too, the library
 * throws from a promise nobody awaits ("Error occurred whilst returning jobs from local queue
 * to database queue", localQueue.js, mode RELEASED), and Node ends the process on the
 * unhandled rejection. Nothing is lost by going on: those jobs stay locked under the stopped
 * pool's id, whose lease is ended (or lapses) and whose jobs are unlocked for the replacement
 * runner (workerLiveness.ts, service.ts's keepRunning; test/renderer/partition.test.ts
 * cuts a renderer off to check it). Any other unhandled rejection still ends the process.
 */
import type { Logger } from '../common/log.js';

const RELEASED_QUEUE_FAILURE = 'Error occurred whilst returning jobs from local queue to database queue';

export function isReleasedQueueFailure(reason: unknown): boolean {
  return reason instanceof Error && reason.message.startsWith(RELEASED_QUEUE_FAILURE);
}

/** Installs the process-wide handler (the `crs renderer` command owns the process); returns its removal. */
export function surviveReleasedQueueFailures(log: Logger): () => void {
  const onRejection = (reason: unknown) => {
    if (!isReleasedQueueFailure(reason)) throw reason;
    log.warn(
      { err: reason },
      'a stopped worker pool could not hand its fetched jobs back; its lease frees them for the new one',
    );
  };
  process.on('unhandledRejection', onRejection);
  return () => process.off('unhandledRejection', onRejection);
}
