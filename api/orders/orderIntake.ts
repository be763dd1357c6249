/**
 * Where the API's orders go to be decided: the group commit (groupCommit.ts) in front of
 * crs.place_orders. Built once per process; `takeOrder` only sees `DecideOrder`, so a
 * benchmark can put another decision behind the same HTTP stack.
 */
import type { ApiConfig } from '../../common/config.js';
import type { Pool } from '../../common/db.js';
import { placeOrders, type PlaceOrderInput, type PlaceOrderResult } from '../../sql/placeOrder.js';
import type { ApiMetrics } from '../../http/metrics.js';
import { makeGroupCommit } from './groupCommit.js';

export type DecideOrder = (input: PlaceOrderInput) => Promise<PlaceOrderResult>;

export interface OrderIntake {
  decide: DecideOrder;
}

export function makeOrderIntake(deps: {
  pool: Pool;
  config: Pick<ApiConfig, 'orderBatchMax' | 'orderBatchConcurrency' | 'orderQueueMax' | 'orderBatchLingerMs'>;
  metrics: ApiMetrics;
}): OrderIntake {
  const groupCommit = makeGroupCommit<PlaceOrderInput, PlaceOrderResult>({
    run: (orders) => placeOrders(deps.pool, orders),
    maxBatch: deps.config.orderBatchMax,
    maxInFlight: deps.config.orderBatchConcurrency,
    maxQueued: deps.config.orderQueueMax,
    lingerMs: deps.config.orderBatchLingerMs,
    onBatch: (size, seconds) => {
      deps.metrics.orderBatchSize.observe(size);
      deps.metrics.orderBatchSeconds.observe(seconds);
    },
  });
  deps.metrics.observeOrderQueue(() => groupCommit.depth());
  return { decide: (input) => groupCommit.submit(input) };
}
