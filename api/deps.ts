import type { ApiConfig } from '../common/config.js';
import type { Pool } from '../common/db.js';
import type { Logger } from '../common/log.js';
import type { ApiMetrics } from './http/metrics.js';

/** Everything the API's routes need, built once at start and passed in explicitly. */
export interface ApiDeps {
  config: ApiConfig;
  pool: Pool;
  log: Logger;
  metrics: ApiMetrics;
  /** Set when the process is stopping: readiness fails so load balancers drain it. */
  lifecycle: { draining: boolean };
}
