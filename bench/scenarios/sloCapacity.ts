/**
 * The flash sale's capacity against its SLO: the highest arrival rate at which a flash sale
 * (open loop, latency from each buyer's scheduled arrival, so coordinated omission cannot hide
 * a queue) keeps p99 under 500 ms with every buyer answered and nothing oversold, and that rate
 * as a share of the trivial route's ceiling (GET /bench/noop, every middleware, no database)
 * measured on the same stack in the same run.
 *
 * The search: the first trial at a quarter of the ceiling, then up by half again while trials
 * pass, then halving the interval between the last pass and the first failure. Each trial is a
 * sale of its own (a new product, stock a twentieth of its buyers as in the flash sale), and
 * waits for its vouchers before the next, so the renderer's work does not spill into it.
 */
import type { Logger } from '../../common/log.js';
import { runLoad } from '../load/run.js';
import { waitForStockFlag, waitForVouchers } from '../measure.js';
import { BENCH_PORTS, type BenchStack } from '../stack.js';

export const SLO_P99_MS = 500;

export interface SloTrial {
  arrivalsPerSecond: number;
  buyers: number;
  stock: number;
  answered: number;
  reserved: number;
  orders: number;
  p99Ms: number;
  pass: boolean;
  /** Why it failed, if it did. */
  reason?: string;
}

export interface SloCapacity {
  /** The highest rate that passed (0 if none did). */
  arrivalsPerSecond: number;
  /** The p99 at that rate. */
  p99Ms: number;
  ratioToHttpCeiling: number;
  httpCeilingPerSecond: number;
  trials: SloTrial[];
}

interface SearchOptions {
  quick: boolean;
  log: Logger;
}

/** The trivial route's ceiling: closed loop, 64 clients (16 quick). */
async function httpCeiling(quick: boolean): Promise<number> {
  const result = await runLoad(
    {
      target: `http://127.0.0.1:${BENCH_PORTS.api}`,
      request: { kind: 'noop', path: '/bench/noop' },
      mode: {
        kind: 'closed',
        concurrency: quick ? 16 : 64,
        durationMs: quick ? 1_000 : 5_000,
        warmupMs: 500,
      },
      timeoutMs: 10_000,
    },
    { label: 'slo ceiling' },
  );
  return result.okPerSecond;
}

async function trial(
  stack: BenchStack,
  index: number,
  rate: number,
  options: SearchOptions,
): Promise<SloTrial> {
  const spreadMs = options.quick ? 1_000 : 2_000;
  const buyers = Math.max(20, Math.round((rate * spreadMs) / 1000));
  const stock = Math.max(5, Math.min(1_000, Math.round(buyers / 20)));
  const productId = `flash-slo-${index}`;
  await stack.owner.query(`select crs.upsert_product($1, 'Flash sale SLO', $2)`, [productId, stock]);
  await waitForStockFlag(stack.vars['REDIS_URL'] as string, productId, (flag) => flag.remaining === stock);
  options.log.info(
    `flash-sale SLO: ${buyers} buyers within ${spreadMs} ms (${Math.round(rate)}/s) for ${stock}`,
  );
  const result = await runLoad(
    {
      target: `http://127.0.0.1:${BENCH_PORTS.api}`,
      request: { kind: 'order', productId, phoneStart: 1_000_000 },
      mode: { kind: 'open', requests: buyers, spreadMs },
      timeoutMs: 30_000,
    },
    { label: `slo ${Math.round(rate)}/s` },
  );
  const { rows } = await stack.owner.query<{ orders: number }>(
    'select count(*)::int as orders from crs.orders where product_id = $1',
    [productId],
  );
  const orders = rows[0]?.orders ?? -1;
  // The next trial starts once this one's vouchers are stored.
  await waitForVouchers(stack.owner, productId, 120_000);

  const reserved = result.byStatus['201'] ?? 0;
  const p99Ms = result.latency.p99;
  let reason: string | undefined;
  const undecided = result.answered - reserved - (result.byStatus['409'] ?? 0);
  if (result.answered !== buyers) reason = `${buyers - result.answered} buyers got no answer`;
  else if (undecided > 0) reason = `${undecided} answers other than 201/409`;
  else if (orders > stock || reserved > stock) reason = `oversold: ${orders} orders for ${stock}`;
  else if (orders !== stock) reason = `${orders} of ${stock} units sold`;
  else if (p99Ms >= SLO_P99_MS) reason = `p99 ${Math.round(p99Ms)} ms`;
  return {
    arrivalsPerSecond: (buyers * 1000) / spreadMs,
    buyers,
    stock,
    answered: result.answered,
    reserved,
    orders,
    p99Ms,
    pass: reason === undefined,
    ...(reason === undefined ? {} : { reason }),
  };
}

export async function searchSloCapacity(stack: BenchStack, options: SearchOptions): Promise<SloCapacity> {
  const ceiling = await httpCeiling(options.quick);
  const maxTrials = options.quick ? 3 : 9;
  const trials: SloTrial[] = [];
  let passed: SloTrial | undefined;
  let failedRate: number | undefined;
  let rate = ceiling / 4;
  while (trials.length < maxTrials) {
    const t = await trial(stack, trials.length, rate, options);
    trials.push(t);
    if (t.pass && (!passed || t.arrivalsPerSecond > passed.arrivalsPerSecond)) passed = t;
    if (!t.pass) failedRate = Math.min(failedRate ?? Infinity, t.arrivalsPerSecond);
    const low = passed?.arrivalsPerSecond ?? 0;
    if (failedRate === undefined) {
      // Nothing failed yet: go up, but never past twice the ceiling (a rate no route could take).
      if (rate * 1.5 > ceiling * 2) break;
      rate *= 1.5;
    } else {
      // Between the best pass (or nothing) and the first failure; done within 5 %.
      if (failedRate - low <= failedRate * 0.05) break;
      rate = low === 0 ? failedRate / 2 : (low + failedRate) / 2;
    }
  }
  return {
    arrivalsPerSecond: passed?.arrivalsPerSecond ?? 0,
    p99Ms: passed?.p99Ms ?? NaN,
    ratioToHttpCeiling: (passed?.arrivalsPerSecond ?? 0) / ceiling,
    httpCeilingPerSecond: ceiling,
    trials,
  };
}
