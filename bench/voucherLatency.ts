/**
 * Order-to-voucher-event latency at a steady order rate, through the whole system: each
 * simulated customer posts an order (HTTP), opens its SSE stream and waits for the `voucher`
 * event; latency runs from the order's scheduled send time (open loop, so a slow system cannot
 * hide its queueing: coordinated omission corrected) to the event.
 *
 *   eval "$(npx crs services --detach)" && npx crs migrate
 *   node --import=tsx bench/voucherLatency.ts [ordersPerSecond=100] [seconds=30]
 *
 * Starts crs api, crs cdc and crs renderer as processes of their own (as npm start does, on
 * ports 3900-3902 and the replication slot crs_bench_pipeline, dropped at the end). Loopback
 * only, bounded by the duration plus a 30 s drain.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import pg from 'pg';
import { packageRoot } from '../common/paths.js';

const rate = Number(process.argv[2] ?? 100);
const seconds = Number(process.argv[3] ?? 30);
const base = 'http://127.0.0.1:3900';
const env: Record<string, string | undefined> = {
  ...process.env,
  PORT: '3900',
  CDC_PORT: '3901',
  RENDERER_PORT: '3902',
  HOST: '127.0.0.1',
  CDC_SLOT: 'crs_bench_pipeline',
  RATE_LIMIT: 'off',
  LOG_LEVEL: 'warn',
};

function component(name: string): ChildProcess {
  return spawn(process.execPath, ['--import=tsx', join(packageRoot, 'cli', 'run.ts'), name], {
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function ready(url: string) {
  for (let i = 0; i < 300; i += 1) {
    try {
      if ((await fetch(url)).status === 200) return;
    } catch {
      // not yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} not ready`);
}

function post(body: unknown): Promise<{ orderId: string; accessToken: string }> {
  return fetch(`${base}/api/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  }).then(async (res) => {
    if (res.status !== 201) throw new Error(`order answered ${res.status}`);
    return (await res.json()) as { orderId: string; accessToken: string };
  });
}

function voucherEvent(orderId: string, token: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/api/orders/${orderId}/events?token=${token}`, (res) => {
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        if (buffer.includes('event: voucher')) {
          req.destroy();
          resolve();
        }
      });
    });
    req.on('error', (err) => (err.message.includes('socket hang up') ? undefined : reject(err)));
    // Heartbeats keep the socket busy, so the bound is on the wait itself.
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error('no voucher event in 60 s'));
    }, 60_000);
    req.on('close', () => clearTimeout(timer));
    req.end();
  });
}

const owner = new pg.Client({ connectionString: env['DATABASE_URL'] });
await owner.connect();
await owner.query("select crs.upsert_product('bench-pipeline', 'Pipeline benchmark', 100000000)");
await owner.end();
const children = ['api', 'cdc', 'renderer'].map(component);
try {
  await Promise.all([
    ready(`${base}/readyz`),
    ready('http://127.0.0.1:3901/readyz'),
    ready('http://127.0.0.1:3902/readyz'),
  ]);
  const latencies: number[] = [];
  let failed = 0;
  const started = Date.now() + 200;
  const total = rate * seconds;
  const run = Math.random().toString(36).slice(2, 8);
  const all: Promise<void>[] = [];
  console.error(`${rate} orders/s for ${seconds} s ...`);
  const progress = setInterval(
    () => console.error(`  sent ${all.length}/${total}, vouchers ${latencies.length}, failed ${failed}`),
    5_000,
  );
  for (let i = 0; i < total; i += 1) {
    const scheduled = started + (i * 1000) / rate;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, scheduled - Date.now())));
    const phone = `+35840${String(1_000_000 + ((parseInt(run, 36) + i * 7919) % 8_999_999))}`;
    all.push(
      post({ productId: 'bench-pipeline', firstName: 'Bench', lastName: `Customer ${i}`, phone })
        .then(({ orderId, accessToken }) => voucherEvent(orderId, accessToken))
        .then(() => void latencies.push(Date.now() - scheduled))
        .catch((err: unknown) => {
          if (failed++ === 0) console.error('first failure:', (err as Error).message);
        }),
    );
  }
  await Promise.all(all);
  clearInterval(progress);
  const sorted = latencies.sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  console.log(
    JSON.stringify(
      {
        ordersPerSecond: rate,
        seconds,
        delivered: sorted.length,
        failed,
        p50Ms: at(50),
        p95Ms: at(95),
        p99Ms: at(99),
        maxMs: sorted[sorted.length - 1],
      },
      null,
      2,
    ),
  );
} finally {
  for (const child of children) child.kill('SIGTERM');
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  const cdc = new pg.Client({ connectionString: env['CDC_DATABASE_URL'] ?? env['DATABASE_URL'] });
  await cdc.connect();
  await cdc.query(
    `select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = 'crs_bench_pipeline' and not active`,
  );
  await cdc.end();
}
