import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export type CdcMetrics = ReturnType<typeof makeCdcMetrics>;

export function makeCdcMetrics(options: { defaultMetrics: boolean }) {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'crs_cdc_' });
  const registers = [registry];
  return {
    registry,
    transactions: new Counter({
      name: 'crs_cdc_transactions_total',
      help: 'Committed transactions decoded and handled',
      registers,
    }),
    changes: new Counter({
      name: 'crs_cdc_changes_total',
      help: 'Row changes decoded, by table and operation',
      labelNames: ['table', 'op'] as const,
      registers,
    }),
    skipped: new Counter({
      name: 'crs_cdc_skipped_changes_total',
      help: 'Changes that could not be understood and were logged and skipped',
      registers,
    }),
    acknowledgedLsn: new Gauge({
      name: 'crs_cdc_acknowledged_lsn',
      help: 'Last LSN acknowledged to Postgres, as a number',
      registers,
    }),
    lagBytes: new Gauge({
      name: 'crs_cdc_replication_lag_bytes',
      help: "WAL between the server's current position and the slot's confirmed position",
      registers,
    }),
    lagSeconds: new Gauge({
      name: 'crs_cdc_replication_lag_seconds',
      help: 'Age of the newest handled commit when it was handled (0 when idle)',
      registers,
    }),
    commitToRedis: new Histogram({
      name: 'crs_cdc_commit_to_redis_seconds',
      help: 'From commit in Postgres to the stock flag written',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    commitToJob: new Histogram({
      name: 'crs_cdc_commit_to_job_seconds',
      help: 'From commit of an order to its render job queued',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    batchSize: new Histogram({
      name: 'crs_cdc_batch_transactions',
      help: 'Transactions handled together in one batch',
      buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
      registers,
    }),
    effectFailures: new Counter({
      name: 'crs_cdc_effect_failures_total',
      help: 'Failed attempts to apply a batch, by dependency (retried)',
      labelNames: ['dependency'] as const,
      registers,
    }),
    reconnects: new Counter({
      name: 'crs_cdc_reconnects_total',
      help: 'Replication streams that ended and were started again',
      registers,
    }),
    reconciles: new Counter({
      name: 'crs_cdc_reconciles_total',
      help: 'Reconciliations run, by reason',
      labelNames: ['reason'] as const,
      registers,
    }),
    stockChecks: new Counter({
      name: 'crs_cdc_stock_checks_total',
      help: 'Comparisons of every stock flag with the tables, by outcome (agreed, disagreed, behind, failed)',
      labelNames: ['outcome'] as const,
      registers,
    }),
    stockDriftProducts: new Gauge({
      name: 'crs_cdc_stock_drift_products',
      help: 'Products whose stock flag disagreed with the tables at the last comparison',
      registers,
    }),
    stockDriftUnits: new Gauge({
      name: 'crs_cdc_stock_drift_units',
      help: 'Sum over those products of the difference between flag and table remaining units',
      registers,
    }),
    stockRepairs: new Counter({
      name: 'crs_cdc_stock_repairs_total',
      help: 'Stock flags rewritten from the tables after disagreeing at two comparisons in a row',
      registers,
    }),
    oldestUnappliedSeconds: new Gauge({
      name: 'crs_cdc_oldest_unapplied_seconds',
      help: 'How long the oldest transaction received and not yet applied has waited (0: none)',
      registers,
    }),
    stalls: new Counter({
      name: 'crs_cdc_stalls_total',
      help: 'Times a received transaction waited past CDC_STALL_MS and the stream was restarted',
      registers,
    }),
    leader: new Gauge({
      name: 'crs_cdc_leader',
      help: '1 while this process is the active consumer, 0 while it stands by',
      registers,
    }),
  };
}

/** "16/B374D848" as a number (exact below 2^53 bytes of WAL, i.e. always in practice). */
export function lsnNumber(lsn: string): number {
  const [high = '0', low = '0'] = lsn.split('/');
  return parseInt(high, 16) * 2 ** 32 + parseInt(low, 16);
}

/** lsnNumber back to Postgres' form. */
export function lsnOf(n: number): string {
  const high = Math.floor(n / 2 ** 32);
  return `${high.toString(16).toUpperCase()}/${(n - high * 2 ** 32).toString(16).toUpperCase()}`;
}
