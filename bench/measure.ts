/**
 * Small measuring tools the scenarios share: Prometheus counters read from a component's
 * /metrics, a database call timed in a closed loop, waiting for a condition (a stock flag, a
 * product's vouchers) with a bound.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Pool } from 'pg';
import { readStockFlag, type StockFlag } from '../common/stockFlag.js';
import type { PlaceOrderInput } from '../sql/placeOrder.js';
import { summarize } from './load/percentiles.js';
import type { LatencySummary, LoadPhase } from './load/job.js';

/** The sum of every sample of `name` (all label sets, or those matching `labels`) on a /metrics page. */
export async function readCounter(url: string, name: string, labels: Record<string, string> = {}) {
  const text = await (await fetch(url, { signal: AbortSignal.timeout(5_000) })).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-z_:]+)(\{[^}]*\})? ([0-9.eE+-]+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const set = match[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) sum += Number(match[3]);
  }
  return sum;
}

/** Waits until `check` answers true, polling every 250 ms; false when `timeoutMs` passed first. */
export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Waits until CDC has published a product's stock flag and `accept` takes it (a new product
 * before its sale: the flag, not Postgres, answers its refusals); throws after 10 s.
 */
export async function waitForStockFlag(
  redisUrl: string,
  productId: string,
  accept: (flag: StockFlag) => boolean,
): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true });
  await redis.connect();
  try {
    const flag = async () => {
      const read = await readStockFlag(redis, productId);
      return read !== undefined && accept(read);
    };
    if (!(await waitUntil(flag, 10_000))) {
      throw new Error(`CDC did not publish the stock flag of ${productId} within 10 s`);
    }
  } finally {
    redis.disconnect();
  }
}

/** Waits until every order of a product has its voucher stored; false when `timeoutMs` passed first. */
export function waitForVouchers(owner: Pool, productId: string, timeoutMs: number): Promise<boolean> {
  return waitUntil(async () => {
    const { rows } = await owner.query<{ missing: number }>(
      'select count(*)::int as missing from crs.orders where product_id = $1 and voucher_stored_at is null',
      [productId],
    );
    return rows[0]?.missing === 0;
  }, timeoutMs);
}

let customer = 0;
/** An order for a new customer each call (phones +35840 and seven digits, never repeating in a run). */
export function benchOrder(productId: string, runPrefix: string): PlaceOrderInput {
  customer += 1;
  const phone = `+35840${String(1_000_000 + (customer % 8_999_999))}`;
  return {
    orderId: `${runPrefix}-${customer}`,
    productId,
    customerKey: phone,
    firstName: 'Bench',
    lastName: `Direct ${customer}`,
    phone,
    tokenHash: randomBytes(32),
    tokenSalt: randomBytes(16),
  };
}

export interface DirectResult {
  perSecond: number;
  answered: number;
  outcomes: Record<string, number>;
  errors: number;
  latency: LatencySummary;
  /** CPU time (µs) of this process, the callers and the group commit, in the measured window. */
  callerCpuMicros: number;
}

/**
 * `clients` callers in a closed loop for `durationMs` (after `warmupMs`), each calling
 * `decide` with a new order as soon as its previous one is answered: the database path
 * without HTTP.
 */
export async function directClosedLoop(options: {
  clients: number;
  durationMs: number;
  warmupMs: number;
  order: () => PlaceOrderInput;
  decide: (input: PlaceOrderInput) => Promise<{ outcome: string }>;
  /** The measured window opens and closes (once each), for samples of other processes. */
  onPhase?: (phase: LoadPhase) => void;
}): Promise<DirectResult> {
  const start = performance.now();
  const measureFrom = start + options.warmupMs;
  const stopAt = measureFrom + options.durationMs;
  const latencies: number[] = [];
  const outcomes: Record<string, number> = {};
  let errors = 0;
  let cpuAtOpen: NodeJS.CpuUsage | undefined;
  const opens = setTimeout(() => {
    cpuAtOpen = process.cpuUsage();
    options.onPhase?.('measuring');
  }, options.warmupMs);
  await Promise.all(
    Array.from({ length: options.clients }, async () => {
      while (performance.now() < stopAt) {
        const sent = performance.now();
        let outcome: string;
        try {
          outcome = (await options.decide(options.order())).outcome;
        } catch {
          outcome = 'error';
        }
        if (sent < measureFrom) continue;
        if (outcome === 'error') errors += 1;
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        latencies.push(performance.now() - sent);
      }
    }),
  );
  clearTimeout(opens);
  const used = cpuAtOpen ? process.cpuUsage(cpuAtOpen) : { user: 0, system: 0 };
  if (cpuAtOpen) options.onPhase?.('measured');
  const elapsed = Math.max(performance.now(), stopAt) - measureFrom;
  return {
    perSecond: (latencies.length * 1000) / elapsed,
    answered: latencies.length,
    outcomes,
    errors,
    latency: summarize(latencies),
    callerCpuMicros: used.user + used.system,
  };
}
