import type { ApiConfig } from '../common/config.js';
import type { Pool } from '../common/db.js';
import type { Logger } from '../common/log.js';
import type { ApiMetrics } from '../http/metrics.js';
import type { StreamLifecycle } from '../http/eventStream.js';
import type { RateLimits } from '../http/rateLimit.js';
import type { ObjectStore } from '../common/objectStore.js';
import type { OrderIntake } from './orders/orderIntake.js';
import type { StockAnnouncements } from './stock/stockAnnouncements.js';
import type { StockSource } from './stock/stockSource.js';
import type { VoucherEvents } from './vouchers/voucherEvents.js';
import type { VoucherRechecks } from './vouchers/voucherRechecks.js';

/** Everything the API's routes need, built once at start and passed in explicitly. */
export interface ApiDeps {
  config: ApiConfig;
  pool: Pool;
  log: Logger;
  metrics: ApiMetrics;
  /** Decides orders: group commit in front of crs.place_orders. */
  orders: OrderIntake;
  /** Stock reads: the Redis flag, else Postgres. */
  stock: StockSource;
  /** Stock changes as CDC announces them (live stock on the page). */
  stockEvents: StockAnnouncements;
  /** Voucher-stored notifications (RabbitMQ). */
  vouchers: VoucherEvents;
  /** Waiting event streams asking the database again, together (a missed notification). */
  voucherRechecks: VoucherRechecks;
  /** Rate limits, shared across replicas through Redis (off with RATE_LIMIT=off). */
  limits: RateLimits;
  /** The vouchers bucket, when configured. */
  store: ObjectStore | undefined;
  /** Whether the process drains; its open event streams, and how many each owner holds. */
  lifecycle: StreamLifecycle;
}
