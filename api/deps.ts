import type { ApiConfig } from '../common/config.js';
import type { Pool } from '../common/db.js';
import type { Logger } from '../common/log.js';
import type { ApiMetrics } from './http/metrics.js';
import type { StockSource } from './stock/stockSource.js';

/** Everything the API's routes need, built once at start and passed in explicitly. */
export interface ApiDeps {
  config: ApiConfig;
  pool: Pool;
  log: Logger;
  metrics: ApiMetrics;
  /** Stock reads: the Redis flag, else Postgres. */
  stock: StockSource;
  /** Set when the process is stopping: readiness fails so load balancers drain it. */
  lifecycle: { draining: boolean };
}
