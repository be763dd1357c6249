/**
 * Runs one load job in this process: the closed loop (N clients, each waiting for its answer)
 * or the open loop (arrivals on a fixed schedule, whatever is still pending). Bounded either
 * way: every request ends by its own timeout, and nothing new is issued after the schedule.
 */
import { makeLoadClient, RequestFailure, type LoadClient } from './client.js';
import type { LoadJob, LoadPhase, LoadResult } from './job.js';
import { makeTally, type Tally } from './tally.js';
import { assertLoadJob } from './validate.js';

/** Connections for open mode: enough that the pool itself rarely queues, few enough for one process. */
const OPEN_MODE_CONNECTIONS = 512;
const PROGRESS_EVERY_MS = 5_000;

interface Run {
  job: LoadJob;
  client: LoadClient;
  tally: Tally;
  /** performance.now() at the job's start. */
  start: number;
  /** Job-relative now. */
  now(): number;
  /** Voucher waits still running; the job ends when they have. */
  vouchers: Set<Promise<void>>;
  /** Opens or closes the measured window. */
  phase(phase: LoadPhase): void;
}

/** Sends request i and counts its outcome; `measured` false for closed-mode warmup requests. */
async function issue(run: Run, i: number, scheduledMs: number, measured: boolean): Promise<void> {
  const sentMs = run.now();
  if (measured) run.tally.sent();
  try {
    const answer = await run.client.send(i);
    if (!measured) return;
    const record = run.tally.answered(scheduledMs, sentMs, run.now(), answer);
    const follow = run.job.followVouchers;
    if (
      answer.status === 201 &&
      answer.orderId &&
      answer.accessToken &&
      follow &&
      i % (follow.every ?? 1) === 0
    ) {
      const { orderId, accessToken } = answer;
      const wait = run.client
        .awaitVoucher(orderId, accessToken)
        .then((at) => run.tally.voucher(record, at === undefined ? undefined : at - run.start));
      run.vouchers.add(wait);
      void wait.finally(() => run.vouchers.delete(wait));
    }
  } catch (err) {
    // Only a request that got no answer is counted; anything else (phones exhausted) ends the job.
    if (!(err instanceof RequestFailure)) throw err;
    if (measured) run.tally.failed(scheduledMs, sentMs, run.now(), err.key);
  }
}

async function runClosed(run: Run, mode: Extract<LoadJob['mode'], { kind: 'closed' }>): Promise<void> {
  const measureFrom = mode.warmupMs ?? 0;
  const stopAt = measureFrom + mode.durationMs;
  let next = 0;
  let failed = false;
  const opens = setTimeout(() => run.phase('measuring'), measureFrom);
  const closes = setTimeout(() => run.phase('measured'), stopAt);
  const client = async () => {
    while (!failed && run.now() < stopAt) {
      const sentMs = run.now();
      await issue(run, next++, sentMs, sentMs >= measureFrom).catch((err: unknown) => {
        failed = true;
        throw err;
      });
    }
  };
  try {
    await Promise.all(Array.from({ length: mode.concurrency }, client));
  } finally {
    clearTimeout(opens);
    clearTimeout(closes);
    // Clients stop at stopAt, but the timer may be late: the window is closed at the latest now.
    run.phase('measured');
  }
}

async function runOpen(run: Run, mode: Extract<LoadJob['mode'], { kind: 'open' }>): Promise<void> {
  const interval = mode.spreadMs / mode.requests;
  const pending = new Set<Promise<void>>();
  let failure: unknown;
  let next = 0;
  run.phase('measuring');
  await new Promise<void>((resolve) => {
    // Times are computed from the start, never from the previous tick, so timer lateness does
    // not accumulate: a late tick sends every arrival that is due (and their latency shows it).
    const tick = () => {
      const now = run.now();
      while (next < mode.requests && next * interval <= now) {
        const p = issue(run, next, next * interval, true).catch((err: unknown) => {
          failure ??= err;
        });
        pending.add(p);
        void p.finally(() => pending.delete(p));
        next += 1;
      }
      if (next >= mode.requests || failure !== undefined) resolve();
      else setTimeout(tick, Math.max(0, next * interval - run.now()));
    };
    tick();
  });
  await Promise.all(pending);
  run.phase('measured');
  if (failure !== undefined) throw failure;
}

/**
 * Runs the job and returns its result; `log` gets a progress line every 5 s, `onPhase` the
 * opening and closing of the measured window (once each).
 */
export async function executeJob(
  job: unknown,
  log: (line: string) => void,
  onPhase: (phase: LoadPhase) => void = () => undefined,
): Promise<LoadResult> {
  // Checked here, not only in runLoad: the job arrives by IPC as plain data.
  assertLoadJob(job);
  const mode = job.mode;
  const connections =
    mode.kind === 'closed' ? mode.concurrency : Math.min(OPEN_MODE_CONNECTIONS, mode.requests);
  const tally = makeTally({
    keepRecords: job.keepRecords ?? false,
    followVouchers: job.followVouchers !== undefined,
  });
  const client = makeLoadClient(job, connections);
  const start = performance.now();
  let cpuAtOpen: NodeJS.CpuUsage | undefined;
  let generatorCpuMicros = 0;
  let phaseNow: LoadPhase | undefined;
  const phase = (next: LoadPhase) => {
    if (phaseNow === next || (next === 'measured' && phaseNow === undefined)) return;
    phaseNow = next;
    if (next === 'measuring') cpuAtOpen = process.cpuUsage();
    else if (cpuAtOpen) {
      const used = process.cpuUsage(cpuAtOpen);
      generatorCpuMicros = used.user + used.system;
    }
    onPhase(next);
  };
  const run: Run = {
    job,
    client,
    tally,
    start,
    now: () => performance.now() - start,
    vouchers: new Set(),
    phase,
  };
  const progress = setInterval(() => log(tally.progress(run.now())), PROGRESS_EVERY_MS);
  try {
    if (mode.kind === 'closed') await runClosed(run, mode);
    else await runOpen(run, mode);
    // Each wait is bounded by followVouchers.timeoutMs; a new one can start only while
    // requests are still answering, which they no longer are.
    while (run.vouchers.size > 0) await Promise.all(run.vouchers);
    return { ...tally.result(), generatorCpuMicros };
  } finally {
    clearInterval(progress);
    await client.close();
  }
}
