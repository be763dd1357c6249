/**
 * The fault suite's customers: a steady, bounded stream of orders spread over the API
 * instances, each retried with the same order id (and the same body) until it is decided,
 * as a careful client would: on 503 after Retry-After, on a refused or broken connection at
 * once on the next instance (what a load balancer does). Every answer is tallied, so the
 * suite can tell "failed with 503, retried, reserved once" from anything worse.
 */
import { sleep } from '../common/backoff.js';

export interface PlacedOrder {
  orderId: string;
  /** The order access token (set once reserved). */
  token?: string;
  outcome: 'reserved' | 'out_of_stock' | 'undecided' | 'unexpected';
  attempts: number;
  /** When the first answer that decided it arrived. */
  decidedAt?: number;
}

export interface LoadTally {
  attempted: number;
  reserved: number;
  outOfStock: number;
  /** Orders still without a decision when the load ended (lost, if the order is reserved). */
  undecided: number;
  /** Requests answered 503 `unavailable` (retried). */
  unavailable: number;
  /** Requests that failed without an answer: refused or broken connections, timeouts. */
  connectionErrors: number;
  /** Replays answered 200 (a retry whose first attempt had been decided). */
  replays: number;
  /** Answers outside the contract for this load (any other status or code): must be 0. */
  unexpected: { status: number; code?: string; orderId: string }[];
}

export interface OrderLoadOptions {
  targets: string[];
  productId: string;
  ratePerSecond: number;
  /** How long new orders keep arriving. */
  durationMs: number;
  /** How long an order may keep retrying after the arrivals end. */
  settleMs: number;
  requestTimeoutMs: number;
  /** Called once an order is reserved (SSE followers start here). */
  onReserved?: (order: PlacedOrder) => void;
}

export interface OrderLoad {
  /** Resolves when every order is decided or its retries ran out. */
  done: Promise<LoadTally>;
  orders: PlacedOrder[];
  /** Stops new arrivals early (retries of the ones out continue). */
  stop(): void;
  /** Stops arrivals and retries: what is undecided stays so (the drill is giving up). */
  abandon(): void;
}

const RUN = Date.now().toString(36);

export function startOrderLoad(options: OrderLoadOptions): OrderLoad {
  const orders: PlacedOrder[] = [];
  const tally: LoadTally = {
    attempted: 0,
    reserved: 0,
    outOfStock: 0,
    undecided: 0,
    unavailable: 0,
    connectionErrors: 0,
    replays: 0,
    unexpected: [],
  };
  let stopped = false;
  let next = 0;
  const startedAt = Date.now();
  let retryUntil = startedAt + options.durationMs + options.settleMs;

  async function place(index: number) {
    const orderId = `fault-${RUN}-${String(index).padStart(6, '0')}`;
    const order: PlacedOrder = { orderId, outcome: 'undecided', attempts: 0 };
    orders.push(order);
    tally.attempted += 1;
    const body = JSON.stringify({
      orderId,
      productId: options.productId,
      firstName: 'Fault',
      lastName: `Customer ${index}`,
      // Finnish mobile numbers: one customer per order.
      phone: `+35840${String(1_000_000 + index)}`,
    });
    let target = index % options.targets.length;
    while (Date.now() < retryUntil) {
      order.attempts += 1;
      let response: Response;
      try {
        response = await fetch(`${options.targets[target]}/api/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(options.requestTimeoutMs),
        });
      } catch {
        tally.connectionErrors += 1;
        target = (target + 1) % options.targets.length;
        await sleep(100 + Math.random() * 200);
        continue;
      }
      const answer = (await response.json().catch(() => ({}))) as {
        accessToken?: string;
        error?: { code?: string };
      };
      if (response.status === 201 || response.status === 200) {
        if (response.status === 200) tally.replays += 1;
        order.outcome = 'reserved';
        if (answer.accessToken) order.token = answer.accessToken;
        order.decidedAt = Date.now();
        tally.reserved += 1;
        options.onReserved?.(order);
        return;
      }
      if (response.status === 409 && answer.error?.code === 'out_of_stock') {
        order.outcome = 'out_of_stock';
        order.decidedAt = Date.now();
        tally.outOfStock += 1;
        return;
      }
      if (response.status === 503 && answer.error?.code === 'unavailable') {
        tally.unavailable += 1;
        const retryAfter = Number(response.headers.get('retry-after') ?? '1');
        // Jitter, so that the clients a fault turned away do not all come back at once.
        await sleep(Math.min(retryAfter, 2) * 1000 * (0.5 + Math.random()));
        continue;
      }
      order.outcome = 'unexpected';
      tally.unexpected.push({ status: response.status, code: answer.error?.code, orderId });
      return;
    }
    tally.undecided += 1;
  }

  const inFlight = new Set<Promise<void>>();
  const done = (async () => {
    const interval = 1000 / options.ratePerSecond;
    while (!stopped) {
      const due = startedAt + next * interval;
      if (due > startedAt + options.durationMs) break;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      const placing = place(next);
      next += 1;
      inFlight.add(placing);
      void placing.finally(() => inFlight.delete(placing));
    }
    await Promise.all(inFlight);
    return tally;
  })();

  return {
    done,
    orders,
    stop() {
      stopped = true;
    },
    abandon() {
      stopped = true;
      retryUntil = 0;
    },
  };
}
