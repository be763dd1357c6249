/**
 * The contract between a benchmark script and the load generator process: one LoadJob goes
 * in by IPC, one LoadResult comes back. Plain data only, since it crosses a process boundary.
 * All times are milliseconds; the `*Ms` fields of a record are relative to the job's start
 * (performance.now based, so monotonic and sub-millisecond).
 */

export interface LoadJob {
  /** Base URL; must be http on a loopback address (127.0.0.1, ::1, localhost): refuse anything else with a clear Error. */
  target: string;
  /** 'order': POST /api/orders with a unique customer per request; 'noop': GET `path` (a trivial route). */
  request: { kind: 'order'; productId: string; phoneStart: number } | { kind: 'noop'; path: string };
  /** closed: `concurrency` clients each sending its next request when the previous answered, for durationMs.
   *  open: `requests` arrivals at fixed times start + i * spreadMs / requests, each sent at its time whatever is still pending. */
  mode:
    | { kind: 'closed'; concurrency: number; durationMs: number; warmupMs?: number }
    | { kind: 'open'; requests: number; spreadMs: number };
  /** Per request bound; a request over it counts as an error 'timeout'. */
  timeoutMs: number;
  /** After a 201, open the order's events stream and record when `event: voucher` arrives (bounded by voucherTimeoutMs). */
  followVouchers?: {
    timeoutMs: number;
    /** Follow only every n-th request's order (1 = all): at high rates the streams held open
     *  while vouchers render would otherwise pile up into the thousands. */
    every?: number;
  };
  /** Keep one record per request in the result (needed for per-request analysis). */
  keepRecords?: boolean;
}

/**
 * One request. A request that got no HTTP answer (timeout, connection error) has status 0,
 * `code` naming the error and `answeredMs` the time it was given up.
 */
export interface RequestRecord {
  scheduledMs: number;
  sentMs: number;
  answeredMs: number;
  status: number;
  code?: string;
  orderId?: string;
  voucherMs?: number;
}

export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
  /** [percentile, ms] points for a percentile-distribution chart, ~60 points, percentiles 0..99.999 spaced logarithmically toward the tail like HdrHistogram's output. */
  distribution: [number, number][];
}

export interface LoadResult {
  sent: number;
  /** Requests that got an HTTP answer, whatever its status; the others are counted in `errors`. */
  answered: number;
  byStatus: Record<string, number>;
  byCode: Record<string, number>;
  errors: Record<string, number>;
  /** first send to last answer */
  elapsedMs: number;
  /** answers per second over elapsedMs (closed: measured after warmup only) */
  perSecond: number;
  okPerSecond: number;
  latency: LatencySummary;
  /** open mode: voucher event latency from scheduled time */
  voucherLatency?: LatencySummary;
  vouchersReceived?: number;
  vouchersMissing?: number;
  records?: RequestRecord[];
  /** CPU time (user + system, µs) the generator process used in the measured window. */
  generatorCpuMicros: number;
}

/**
 * When the measured window opens and closes (closed mode: after the warmup, at the end of the
 * duration; open mode: the first arrival, the last answer), told to the parent as it happens
 * so it can sample other processes at the same moments (bench/cpuTime.ts).
 */
export type LoadPhase = 'measuring' | 'measured';

/** What the generator process sends back, once. */
export type GeneratorReply = { ok: true; result: LoadResult } | { ok: false; error: string };

/** What the generator tells its parent before the reply. */
export interface PhaseMessage {
  phase: LoadPhase;
}
