/**
 * `intake`: how many orders per second the system decides, and how fast, at 1, 16, 64 and 256
 * concurrent clients (closed loop, stock never runs out), side by side in one run:
 *   batched (HTTP)      the production path: POST /api/orders, group commit, crs.place_orders;
 *   original (HTTP)     the same HTTP stack deciding with the original design's procedure
 *                       (both tables ACCESS EXCLUSIVE, one order per transaction);
 *   HTTP ceiling        GET /bench/noop on the same app (every middleware, no database);
 *   database ceiling    the group commit and crs.place_orders called directly, no HTTP;
 *   original (database) the original procedure called directly, one connection per client
 *                       (at most 64: Postgres' own connection limit is 100).
 * Only the API runs (CDC and the renderer are stopped) so the figures are the decision path's.
 * Variants are interleaved per level, so a noisy moment hits them all alike.
 */
import pg from 'pg';
import { placeOrders, type PlaceOrderInput, type PlaceOrderResult } from '../../sql/placeOrder.js';
import { makeGroupCommit } from '../../api/orders/groupCommit.js';
import { ORDER_BATCH_DEFAULTS } from '../../common/config.js';
import type { Logger } from '../../common/log.js';
import type { LatencySummary, LoadResult } from '../load/job.js';
import { runLoad } from '../load/run.js';
import { latencyDistributionChart } from '../report/latencyChart.js';
import { lineChart } from '../report/lineChart.js';
import { formatNumber, formatTable, markdownTable } from '../report/table.js';
import { benchOrder, directClosedLoop } from '../measure.js';
import { originalDecision } from '../originalDesign.js';
import { BENCH_PORTS, type BenchStack } from '../stack.js';
import type { ScenarioOutput } from './scenario.js';

const VARIANTS = [
  'batched (HTTP)',
  'original (HTTP)',
  'HTTP ceiling',
  'database ceiling',
  'original (database)',
] as const;
type Variant = (typeof VARIANTS)[number];

interface Cell {
  variant: Variant;
  clients: number;
  perSecond: number;
  answered: number;
  errors: number;
  latency: LatencySummary;
}

const STOCK = 1_000_000_000;

export async function intake(
  stack: BenchStack,
  options: { quick: boolean; log: Logger },
): Promise<ScenarioOutput> {
  const levels = options.quick ? [1, 16] : [1, 16, 64, 256];
  const durationMs = options.quick ? 1_500 : 10_000;
  const warmupMs = options.quick ? 300 : 1_500;
  const target = `http://127.0.0.1:${BENCH_PORTS.api}`;
  const cells: Cell[] = [];

  const userPool = new pg.Pool({ connectionString: stack.vars['API_DATABASE_URL'], max: 8 });
  // The database ceiling uses the group commit exactly as the API configures it by default.
  const groupCommit = makeGroupCommit<PlaceOrderInput, PlaceOrderResult>({
    run: (orders) => placeOrders(userPool, orders),
    maxBatch: ORDER_BATCH_DEFAULTS.max,
    maxInFlight: ORDER_BATCH_DEFAULTS.concurrency,
    lingerMs: ORDER_BATCH_DEFAULTS.lingerMs,
    maxQueued: 100_000,
  });

  async function newProduct(variant: Variant, clients: number) {
    const id = `intake-${variant.replace(/[^a-z]+/g, '-').replace(/-$/, '')}-${clients}`;
    if (variant.startsWith('original')) {
      await stack.owner.query(`insert into bench_original.products values ($1, $2, $2)`, [id, STOCK]);
    } else {
      await stack.owner.query(`select crs.upsert_product($1, $1, $2)`, [id, STOCK]);
    }
    // Start each measurement from a clean checkpoint, not in the middle of one.
    await stack.superuser.query('checkpoint');
    return id;
  }

  function fromLoad(variant: Variant, clients: number, result: LoadResult): Cell {
    const ok = variant === 'HTTP ceiling' ? (result.byStatus['200'] ?? 0) : (result.byStatus['201'] ?? 0);
    const errors = result.sent - ok;
    return { variant, clients, perSecond: result.okPerSecond, answered: ok, errors, latency: result.latency };
  }

  async function overHttp(variant: Variant, clients: number, productId: string | undefined) {
    const result = await runLoad(
      {
        target,
        request: productId
          ? // Every cell orders a product of its own, so its customers only need to be new to it.
            { kind: 'order', productId, phoneStart: 1_000_000 }
          : { kind: 'noop', path: '/bench/noop' },
        mode: { kind: 'closed', concurrency: clients, durationMs, warmupMs },
        timeoutMs: 10_000,
      },
      { label: `intake ${variant} ${clients}` },
    );
    return fromLoad(variant, clients, result);
  }

  const runPrefix = `intake-${Date.now().toString(36)}`;
  try {
    for (const decide of ['batched', 'original'] as const) {
      const api = await stack.benchApi(decide);
      try {
        for (const clients of levels) {
          const variant: Variant = decide === 'batched' ? 'batched (HTTP)' : 'original (HTTP)';
          options.log.info(`intake: ${variant}, ${clients} clients`);
          cells.push(await overHttp(variant, clients, await newProduct(variant, clients)));
          if (decide === 'batched') {
            options.log.info(`intake: HTTP ceiling, ${clients} clients`);
            cells.push(await overHttp('HTTP ceiling', clients, undefined));
          }
        }
      } finally {
        await api.stop(10_000);
      }
    }
    for (const clients of levels) {
      options.log.info(`intake: database ceiling, ${clients} clients`);
      const ours = await newProduct('database ceiling', clients);
      const direct = await directClosedLoop({
        clients,
        durationMs,
        warmupMs,
        order: () => benchOrder(ours, runPrefix),
        decide: (input) => groupCommit.submit(input),
      });
      cells.push({
        variant: 'database ceiling',
        clients,
        ...direct,
        answered: direct.outcomes['reserved'] ?? 0,
      });

      options.log.info(`intake: original (database), ${clients} clients`);
      const original = await newProduct('original (database)', clients);
      const sessions = new pg.Pool({
        connectionString: stack.vars['DATABASE_URL'],
        max: Math.min(clients, 64),
      });
      try {
        const result = await directClosedLoop({
          clients,
          durationMs,
          warmupMs,
          order: () => benchOrder(original, runPrefix),
          decide: originalDecision(sessions),
        });
        cells.push({
          variant: 'original (database)',
          clients,
          ...result,
          answered: result.outcomes['reserved'] ?? 0,
        });
      } finally {
        await sessions.end();
      }
    }
  } finally {
    await userPool.end();
  }

  return report(cells, levels, options.quick);
}

function report(cells: Cell[], levels: number[], quick: boolean): ScenarioOutput {
  const at = (variant: Variant, clients: number) =>
    cells.find((c) => c.variant === variant && c.clients === clients);
  const rate = (variant: Variant, clients: number) => at(variant, clients)?.perSecond ?? NaN;
  const rows = cells
    .slice()
    .sort((a, b) => VARIANTS.indexOf(a.variant) - VARIANTS.indexOf(b.variant) || a.clients - b.clients)
    .map((c) => [
      c.variant,
      c.clients,
      Math.round(c.perSecond),
      formatNumber(c.latency.p50, 1),
      formatNumber(c.latency.p95, 1),
      formatNumber(c.latency.p99, 1),
      c.errors,
    ]);
  const columns = [
    { title: 'path' },
    { title: 'clients' },
    { title: 'orders/s' },
    { title: 'p50 ms' },
    { title: 'p95 ms' },
    { title: 'p99 ms' },
    { title: 'not ok' },
  ];
  const ratios = levels.map((clients) => {
    const ours = rate('batched (HTTP)', clients);
    const lowerCeiling = Math.min(rate('HTTP ceiling', clients), rate('database ceiling', clients));
    return {
      clients,
      batchedVsOriginalHttp: ours / rate('original (HTTP)', clients),
      batchedVsLowerCeiling: ours / lowerCeiling,
      databaseCeilingVsOriginalDatabase:
        rate('database ceiling', clients) / rate('original (database)', clients),
    };
  });
  const ratioColumns = [
    { title: 'clients' },
    { title: 'batched / original (HTTP)' },
    { title: 'batched / lower ceiling' },
    { title: 'database: batched / original' },
  ];
  const ratioRows = ratios.map((r) => [
    r.clients,
    `${formatNumber(r.batchedVsOriginalHttp, 2)}x`,
    `${formatNumber(r.batchedVsLowerCeiling * 100, 0)}%`,
    `${formatNumber(r.databaseCeilingVsOriginalDatabase, 2)}x`,
  ]);
  const text = [formatTable(columns, rows), '', formatTable(ratioColumns, ratioRows)].join('\n');
  const markdown = [markdownTable(columns, rows), '', markdownTable(ratioColumns, ratioRows)].join('\n');

  const chartLevel = levels.includes(64) ? 64 : (levels[levels.length - 1] as number);
  const svgs = {
    throughput: lineChart({
      title: 'Orders per second against concurrent clients',
      xTitle: 'concurrent clients',
      yTitle: 'orders/s (requests/s for the HTTP ceiling)',
      xScale: 'log',
      xTicks: levels,
      series: VARIANTS.map((variant) => ({
        name: variant,
        points: levels.map((clients) => [clients, rate(variant, clients)] as [number, number]),
      })),
    }),
    latency: latencyDistributionChart({
      title: `Latency distribution at ${chartLevel} clients`,
      series: VARIANTS.map((variant) => ({
        name: variant,
        distribution: at(variant, chartLevel)?.latency.distribution ?? [],
      })),
    }),
  };
  // Invariants only (no speed checks): every order of the order paths was answered reserved.
  const problems = cells
    .filter((c) => c.errors > 0)
    .map((c) => `${c.variant} at ${c.clients} clients: ${c.errors} requests not answered as expected`);
  return {
    name: 'intake',
    text,
    markdown,
    svgs,
    json: {
      quick,
      levels,
      cells: cells.map(({ latency, ...rest }) => ({
        ...rest,
        latency: { ...latency, distribution: undefined },
      })),
      ratios,
    },
    problems,
    summary: ratios.map(
      (r) =>
        `${r.clients} clients: batched ${formatNumber(r.batchedVsOriginalHttp, 1)}x original (HTTP), ${formatNumber(r.batchedVsLowerCeiling * 100)}% of the lower ceiling, database ${formatNumber(r.databaseCeilingVsOriginalDatabase, 1)}x original`,
    ),
  };
}
