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
 *
 * Each cell also reports its CPU per answered order, every process counted (bench/cpuTime.ts):
 * the stack (the API, Postgres with its backends, Redis, RabbitMQ, the S3 store; for the
 * database paths, Postgres and this process, which plays the API's part) and the load generator
 * apart. Then the HTTP paths run again with the stack pinned to one core and to all of them
 * (taskset), to show how each scales with cores.
 */
import { availableParallelism } from 'node:os';
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
import { allCores, pinStack } from '../cpuAffinity.js';
import { makeCpuMeter, type CpuWindow } from '../cpuTime.js';
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

/** CPU microseconds per answered order (per request for the HTTP ceiling). */
interface CpuPerOrder {
  /** Every process of the stack together. */
  stack: number;
  /** The load generator (0 where this process is both caller and generator). */
  generator: number;
  byComponent: Record<string, number>;
}

interface Cell {
  variant: Variant;
  clients: number;
  /** Cores the stack was pinned to (scaling cells only). */
  cores?: number;
  perSecond: number;
  answered: number;
  errors: number;
  latency: LatencySummary;
  cpu: CpuPerOrder | undefined;
}

/** The stack's processes, by the port each listens on. */
const STACK = {
  api: BENCH_PORTS.api,
  postgres: BENCH_PORTS.pg,
  redis: BENCH_PORTS.redis,
  rabbitmq: BENCH_PORTS.amqp,
  s3: BENCH_PORTS.s3,
};

/** A meter's window turned into µs per answered order; undefined if it never closed. */
function perOrder(
  window: CpuWindow | undefined,
  answered: number,
  extra: Record<string, number>,
  generatorMicros: number,
): CpuPerOrder | undefined {
  if (!window || answered === 0) return undefined;
  const byComponent: Record<string, number> = {};
  for (const [name, micros] of Object.entries({ ...window.byComponent, ...extra })) {
    byComponent[name] = micros / answered;
  }
  const stack = Object.values(byComponent).reduce((a, b) => a + b, 0);
  return { stack, generator: generatorMicros / answered, byComponent };
}

const STOCK = 1_000_000_000;

export async function intake(
  stack: BenchStack,
  options: { quick: boolean; log: Logger },
): Promise<ScenarioOutput> {
  const levels = options.quick ? [1, 16] : [1, 16, 64, 256];
  const scalingClients = options.quick ? 16 : 64;
  const durationMs = options.quick ? 1_500 : 10_000;
  const warmupMs = options.quick ? 300 : 1_500;
  const target = `http://127.0.0.1:${BENCH_PORTS.api}`;
  const cells: Cell[] = [];
  const scaling: Cell[] = [];

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

  function fromLoad(variant: Variant, clients: number, result: LoadResult, cpu: CpuWindow | undefined): Cell {
    const ok = variant === 'HTTP ceiling' ? (result.byStatus['200'] ?? 0) : (result.byStatus['201'] ?? 0);
    const errors = result.sent - ok;
    return {
      variant,
      clients,
      perSecond: result.okPerSecond,
      answered: ok,
      errors,
      latency: result.latency,
      cpu: perOrder(cpu, ok, {}, result.generatorCpuMicros),
    };
  }

  async function overHttp(variant: Variant, clients: number, productId: string | undefined) {
    const meter = makeCpuMeter(STACK);
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
      { label: `intake ${variant} ${clients}`, onPhase: meter.onPhase },
    );
    return fromLoad(variant, clients, result, meter.window());
  }

  async function direct(
    variant: Variant,
    clients: number,
    decide: (input: PlaceOrderInput) => Promise<{ outcome: string }>,
  ): Promise<Cell> {
    const productId = await newProduct(variant, clients);
    const meter = makeCpuMeter({ postgres: BENCH_PORTS.pg });
    const result = await directClosedLoop({
      clients,
      durationMs,
      warmupMs,
      order: () => benchOrder(productId, runPrefix),
      decide,
      onPhase: meter.onPhase,
    });
    const answered = result.outcomes['reserved'] ?? 0;
    return {
      variant,
      clients,
      perSecond: result.perSecond,
      answered,
      errors: result.errors,
      latency: result.latency,
      // This process is the caller: the group commit (or the original's sessions) and pg.
      cpu: perOrder(meter.window(), answered, { caller: result.callerCpuMicros }, 0),
    };
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
      cells.push(await direct('database ceiling', clients, (input) => groupCommit.submit(input)));

      options.log.info(`intake: original (database), ${clients} clients`);
      const sessions = new pg.Pool({
        connectionString: stack.vars['DATABASE_URL'],
        max: Math.min(clients, 64),
      });
      try {
        cells.push(await direct('original (database)', clients, originalDecision(sessions)));
      } finally {
        await sessions.end();
      }
    }

    // Scaling: the HTTP paths with the stack on one core, then on all, interleaved.
    const ports = Object.values(STACK);
    for (const decide of ['batched', 'original'] as const) {
      const api = await stack.benchApi(decide);
      const variant: Variant = decide === 'batched' ? 'batched (HTTP)' : 'original (HTTP)';
      try {
        for (const [cores, list] of [
          [1, '0'],
          [availableParallelism(), allCores()],
        ] as const) {
          const pinned = pinStack(ports, list);
          options.log.info(
            `intake: ${variant}, ${scalingClients} clients, stack on ${cores} core(s) (${pinned} processes)`,
          );
          const cell = await overHttp(
            variant,
            scalingClients,
            await newProduct(variant, scalingClients * 1000 + cores),
          );
          scaling.push({ ...cell, cores });
        }
      } finally {
        pinStack(ports, allCores());
        await api.stop(10_000);
      }
    }
  } finally {
    await userPool.end();
  }

  return report(cells, scaling, levels, options.quick);
}

function report(cells: Cell[], scaling: Cell[], levels: number[], quick: boolean): ScenarioOutput {
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
      c.cpu ? Math.round(c.cpu.stack) : '-',
      c.cpu && c.cpu.generator > 0 ? Math.round(c.cpu.generator) : '-',
      c.errors,
    ]);
  const columns = [
    { title: 'path' },
    { title: 'clients' },
    { title: 'orders/s' },
    { title: 'p50 ms' },
    { title: 'p95 ms' },
    { title: 'p99 ms' },
    { title: 'CPU µs/order' },
    { title: 'generator µs' },
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
  const chartLevel = levels.includes(64) ? 64 : (levels[levels.length - 1] as number);

  // CPU per order at the chart's level, every process counted, and what each process took.
  const cpuAt = (variant: Variant) => at(variant, chartLevel)?.cpu;
  const components = [...new Set(cells.flatMap((c) => Object.keys(c.cpu?.byComponent ?? {})))];
  const cpuColumns = [
    { title: `path (${chartLevel} clients)` },
    ...components.map((name) => ({ title: `${name} µs` })),
    { title: 'stack µs/order' },
    { title: 'generator µs/order' },
  ];
  const cpuRows = VARIANTS.map((variant) => {
    const cpu = cpuAt(variant);
    return [
      variant,
      ...components.map((name) => {
        const micros = cpu?.byComponent[name];
        return micros === undefined ? '-' : Math.round(micros);
      }),
      cpu ? Math.round(cpu.stack) : '-',
      cpu && cpu.generator > 0 ? Math.round(cpu.generator) : '-',
    ];
  });
  const stackMicros = (variant: Variant) => cpuAt(variant)?.stack ?? NaN;
  const generatorMicros = (variant: Variant) => cpuAt(variant)?.generator ?? NaN;
  const cpuMicrosPerOrder = {
    clients: chartLevel,
    batched: stackMicros('batched (HTTP)'),
    original: stackMicros('original (HTTP)'),
    httpCeiling: stackMicros('HTTP ceiling'),
    databaseCeiling: stackMicros('database ceiling'),
    originalDatabase: stackMicros('original (database)'),
    batchedVsOriginal: stackMicros('batched (HTTP)') / stackMicros('original (HTTP)'),
    generator: {
      batched: generatorMicros('batched (HTTP)'),
      original: generatorMicros('original (HTTP)'),
      httpCeiling: generatorMicros('HTTP ceiling'),
    },
    byComponent: Object.fromEntries(VARIANTS.map((variant) => [variant, cpuAt(variant)?.byComponent ?? {}])),
  };

  // Scaling with cores: the same HTTP path with the stack on one core and on all.
  const coreCounts = [...new Set(scaling.map((c) => c.cores ?? 0))].sort((a, b) => a - b);
  const scaled = (variant: Variant, cores: number) =>
    scaling.find((c) => c.variant === variant && c.cores === cores)?.perSecond ?? NaN;
  const speedup = (variant: Variant) =>
    scaled(variant, coreCounts[coreCounts.length - 1] ?? NaN) / scaled(variant, coreCounts[0] ?? NaN);
  const scalingClients = scaling[0]?.clients ?? chartLevel;
  const scalingResult = {
    clients: scalingClients,
    cells: coreCounts.map((cores) => ({
      cores,
      batched: scaled('batched (HTTP)', cores),
      original: scaled('original (HTTP)', cores),
    })),
    batchedSpeedup: speedup('batched (HTTP)'),
    originalSpeedup: speedup('original (HTTP)'),
  };
  const scalingColumns = [
    { title: `stack cores (${scalingClients} clients)` },
    { title: 'batched orders/s' },
    { title: 'original orders/s' },
    { title: 'batched / original' },
  ];
  const scalingRows = scalingResult.cells.map((c) => [
    c.cores,
    Math.round(c.batched),
    Math.round(c.original),
    `${formatNumber(c.batched / c.original, 2)}x`,
  ]);

  const tables = (format: typeof formatTable) =>
    [
      format(columns, rows),
      format(ratioColumns, ratioRows),
      format(cpuColumns, cpuRows),
      format(scalingColumns, scalingRows),
    ].join('\n\n');
  const text = tables(formatTable);
  const markdown = tables(markdownTable);
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
    scaling: lineChart({
      title: `Orders per second against the stack's cores (${scalingClients} clients)`,
      xTitle: 'cores the stack is pinned to (taskset)',
      yTitle: 'orders/s',
      xTicks: coreCounts,
      series: (['batched (HTTP)', 'original (HTTP)'] as const).map((variant) => ({
        name: variant,
        points: coreCounts.map((cores) => [cores, scaled(variant, cores)] as [number, number]),
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
  const problems = [...cells, ...scaling]
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
      cpuMicrosPerOrder,
      scaling: scalingResult,
      scalingCells: scaling.map(({ latency, ...rest }) => ({
        ...rest,
        latency: { ...latency, distribution: undefined },
      })),
    },
    problems,
    summary: [
      ...ratios.map(
        (r) =>
          `${r.clients} clients: batched ${formatNumber(r.batchedVsOriginalHttp, 1)}x original (HTTP), ${formatNumber(r.batchedVsLowerCeiling * 100)}% of the lower ceiling, database ${formatNumber(r.databaseCeilingVsOriginalDatabase, 1)}x original`,
      ),
      `CPU per order at ${chartLevel} clients, every process: batched ${Math.round(cpuMicrosPerOrder.batched)} µs, original ${Math.round(cpuMicrosPerOrder.original)} µs (${formatNumber(cpuMicrosPerOrder.batchedVsOriginal * 100)}%); the generator ${Math.round(cpuMicrosPerOrder.generator.batched)} µs more`,
      `stack on ${coreCounts.join(' then ')} cores at ${scalingClients} clients: batched ${formatNumber(scalingResult.batchedSpeedup, 2)}x, original ${formatNumber(scalingResult.originalSpeedup, 2)}x`,
    ],
  };
}
