/**
 * `flash-sale`: 20,000 buyers arrive within 2 seconds (open loop: each at its time, whatever
 * is still pending) for 1,000 units, through the whole system (API, CDC, renderer). Checks
 * every buyer got an answer and exactly the stock was reserved; measures latency from each
 * buyer's scheduled arrival (coordinated omission corrected), the time to sell out, the share
 * of answers after the sell-out that never reached Postgres (the stock flag), and the time from
 * the last reservation to the last voucher stored.
 */
import type { Logger } from '../../common/log.js';
import { runLoad } from '../load/run.js';
import { latencyDistributionChart } from '../report/latencyChart.js';
import { formatNumber, formatTable, markdownTable } from '../report/table.js';
import { readCounter, waitForStockFlag, waitForVouchers } from '../measure.js';
import { BENCH_PORTS, type BenchStack } from '../stack.js';
import type { ScenarioOutput } from './scenario.js';
import { searchSloCapacity, SLO_P99_MS } from './sloCapacity.js';

export async function flashSale(
  stack: BenchStack,
  options: { quick: boolean; log: Logger },
): Promise<ScenarioOutput> {
  const buyers = options.quick ? 2_000 : 20_000;
  const stock = options.quick ? 100 : 1_000;
  const spreadMs = options.quick ? 1_000 : 2_000;
  const productId = 'flash-sale';
  const metricsUrl = `http://127.0.0.1:${BENCH_PORTS.api}/metrics`;
  await stack.owner.query(`select crs.upsert_product($1, 'Flash sale', $2)`, [productId, stock]);
  // Let CDC publish the new product's stock flag before the doors open.
  await waitForStockFlag(stack.vars['REDIS_URL'] as string, productId, (flag) => flag.remaining === stock);

  const refusedByFlag0 = await readCounter(metricsUrl, 'crs_orders_total', { outcome: 'out_of_stock_flag' });
  const refusedByDb0 = await readCounter(metricsUrl, 'crs_orders_total', { outcome: 'out_of_stock' });
  options.log.info(`flash-sale: ${buyers} buyers within ${spreadMs} ms for ${stock} units`);
  const result = await runLoad(
    {
      target: `http://127.0.0.1:${BENCH_PORTS.api}`,
      request: { kind: 'order', productId, phoneStart: 1_000_000 },
      mode: { kind: 'open', requests: buyers, spreadMs },
      timeoutMs: 30_000,
      keepRecords: true,
    },
    { label: 'flash-sale' },
  );
  const refusedByFlag =
    (await readCounter(metricsUrl, 'crs_orders_total', { outcome: 'out_of_stock_flag' })) - refusedByFlag0;
  const refusedByDb =
    (await readCounter(metricsUrl, 'crs_orders_total', { outcome: 'out_of_stock' })) - refusedByDb0;

  const records = result.records ?? [];
  const reservedAnswers = records.filter((r) => r.status === 201);
  const soldOutAtMs = Math.max(...reservedAnswers.map((r) => r.answeredMs));
  const { rows } = await stack.owner.query<{ orders: number; remaining: number }>(
    `select (select count(*)::int from crs.orders where product_id = $1) as orders,
            (select sum(remaining)::int from crs.stock_shards where product_id = $1) as remaining`,
    [productId],
  );
  const orders = rows[0]?.orders ?? -1;

  options.log.info('flash-sale: waiting for every voucher to be stored');
  const allStored = await waitForVouchers(stack.owner, productId, 300_000);
  const { rows: timing } = await stack.owner.query<{
    vouchers: number;
    last_voucher_after_ms: number | null;
  }>(
    `select count(voucher_stored_at)::int as vouchers,
            (extract(epoch from max(voucher_stored_at) - max(created_at)) * 1000)::float8 as last_voucher_after_ms
       from crs.orders where product_id = $1`,
    [productId],
  );
  const vouchers = timing[0]?.vouchers ?? 0;
  const lastVoucherAfterMs = timing[0]?.last_voucher_after_ms ?? NaN;
  const withoutDatabase = refusedByFlag / Math.max(1, refusedByFlag + refusedByDb);

  const slo = await searchSloCapacity(stack, options);

  const problems: string[] = [];
  if (result.answered !== buyers)
    problems.push(`${buyers - result.answered} of ${buyers} buyers got no answer`);
  if (orders !== stock || reservedAnswers.length !== stock) {
    problems.push(
      `${orders} orders in Postgres and ${reservedAnswers.length} answered 201 for a stock of ${stock}`,
    );
  }
  if ((rows[0]?.remaining ?? -1) !== 0) problems.push(`stock left over: ${rows[0]?.remaining}`);
  if (!allStored || vouchers !== orders) problems.push(`${vouchers} vouchers stored for ${orders} orders`);
  const unexpected = Object.entries(result.byStatus).filter(
    ([status]) => status !== '201' && status !== '409',
  );
  for (const t of slo.trials.filter((t) => t.orders > t.stock || t.reserved > t.stock)) {
    problems.push(
      `SLO trial at ${Math.round(t.arrivalsPerSecond)}/s oversold: ${t.orders} orders for ${t.stock}`,
    );
  }
  if (unexpected.length > 0)
    problems.push(`answers other than 201/409: ${JSON.stringify(Object.fromEntries(unexpected))}`);

  const figures: [string, string][] = [
    ['buyers / answered', `${formatNumber(buyers)} / ${formatNumber(result.answered)}`],
    ['stock / reserved (201) / orders in Postgres', `${stock} / ${reservedAnswers.length} / ${orders}`],
    [
      'answers',
      Object.entries(result.byCode)
        .map(([code, n]) => `${code} ${formatNumber(n)}`)
        .join(', '),
    ],
    [
      'latency p50 / p95 / p99 / max (ms)',
      [result.latency.p50, result.latency.p95, result.latency.p99, result.latency.max]
        .map((v) => formatNumber(v, 1))
        .join(' / '),
    ],
    ['time to sell out (first arrival to last reservation)', `${formatNumber(soldOutAtMs)} ms`],
    [
      'out_of_stock answers without Postgres (flag)',
      `${formatNumber(withoutDatabase * 100, 1)}% (${formatNumber(refusedByFlag)} of ${formatNumber(refusedByFlag + refusedByDb)})`,
    ],
    [
      'last reservation to last voucher stored',
      `${formatNumber(lastVoucherAfterMs)} ms (${vouchers} vouchers)`,
    ],
  ];
  figures.push([
    `capacity at p99 < ${SLO_P99_MS} ms (arrivals/s, share of the trivial route's ceiling)`,
    `${formatNumber(slo.arrivalsPerSecond)}/s at p99 ${formatNumber(slo.p99Ms, 1)} ms, ${formatNumber(slo.ratioToHttpCeiling * 100)}% of ${formatNumber(slo.httpCeilingPerSecond)}/s`,
  ]);
  const columns = [
    { title: 'flash sale', align: 'left' as const },
    { title: 'result', align: 'left' as const },
  ];
  const trialColumns = [
    { title: 'SLO trial arrivals/s' },
    { title: 'buyers' },
    { title: 'stock' },
    { title: 'p99 ms' },
    { title: 'result', align: 'left' as const },
  ];
  const trialRows = slo.trials.map((t) => [
    Math.round(t.arrivalsPerSecond),
    t.buyers,
    t.stock,
    formatNumber(t.p99Ms, 1),
    t.pass ? 'pass' : `fail: ${t.reason ?? ''}`,
  ]);
  return {
    name: 'flash-sale',
    text: [formatTable(columns, figures), formatTable(trialColumns, trialRows)].join('\n\n'),
    markdown: [markdownTable(columns, figures), markdownTable(trialColumns, trialRows)].join('\n\n'),
    svgs: {
      latency: latencyDistributionChart({
        title: `Flash sale: ${formatNumber(buyers)} buyers in ${spreadMs / 1000} s for ${formatNumber(stock)} units`,
        series: [{ name: 'all answers', distribution: result.latency.distribution }],
      }),
    },
    json: {
      buyers,
      stock,
      spreadMs,
      answered: result.answered,
      byStatus: result.byStatus,
      byCode: result.byCode,
      errors: result.errors,
      reserved: reservedAnswers.length,
      orders,
      latency: { ...result.latency, distribution: undefined },
      soldOutAtMs,
      refusedByFlag,
      refusedByDatabase: refusedByDb,
      withoutDatabaseShare: withoutDatabase,
      vouchers,
      lastReservationToLastVoucherMs: lastVoucherAfterMs,
      sloCapacity: {
        arrivalsPerSecond: slo.arrivalsPerSecond,
        p99Ms: slo.p99Ms,
        ratioToHttpCeiling: slo.ratioToHttpCeiling,
        httpCeilingPerSecond: slo.httpCeilingPerSecond,
      },
      sloTrials: slo.trials,
    },
    problems,
    summary: [
      `flash sale capacity at p99 < ${SLO_P99_MS} ms: ${formatNumber(slo.arrivalsPerSecond)} arrivals/s, ${formatNumber(slo.ratioToHttpCeiling * 100)}% of the trivial route's ${formatNumber(slo.httpCeilingPerSecond)}/s`,
      `flash sale: ${formatNumber(result.answered)}/${formatNumber(buyers)} answered, ${orders} reserved of ${stock}, p99 ${formatNumber(result.latency.p99)} ms, sold out in ${formatNumber(soldOutAtMs)} ms, ${formatNumber(withoutDatabase * 100, 1)}% of refusals without Postgres, last voucher ${formatNumber(lastVoucherAfterMs)} ms after the last reservation`,
    ],
  };
}
