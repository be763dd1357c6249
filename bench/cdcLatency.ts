/**
 * Commit-to-Redis and commit-to-job latency of the CDC consumer at a steady order rate.
 *
 *   eval "$(npx crs services --detach)" && npx crs migrate
 *   node --import=tsx bench/cdcLatency.ts [ordersPerSecond=500] [seconds=30]
 *
 * Places orders through crs.place_order (as crs_api, open loop: a fixed number every 10 ms,
 * whatever the answers) while an in-process consumer on a slot of its own (crs_bench_cdc,
 * dropped at the end) applies them; the consumer's own latency observations (commit
 * timestamp from pgoutput to the effect being durable) are collected raw and summarised.
 * Loopback only, bounded by the duration.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startCdc } from '../cdc/service.js';
import { loadCdcConfig } from '../common/config.js';
import { makeLogger } from '../common/log.js';

const rate = Number(process.argv[2] ?? 500);
const seconds = Number(process.argv[3] ?? 30);
const env = process.env;
const slot = 'crs_bench_cdc';

function percentile(sorted: number[], p: number) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

const owner = new pg.Pool({ connectionString: env['DATABASE_URL'], max: 2 });
const api = new pg.Pool({ connectionString: env['API_DATABASE_URL'] ?? env['DATABASE_URL'], max: 32 });
await owner.query(`select crs.upsert_product('bench-cdc', 'CDC benchmark', 100000000)`);

const config = loadCdcConfig({ ...env, CDC_SLOT: slot, CDC_PORT: '0', LOG_LEVEL: 'warn' });
const samples = { redis: [] as number[], job: [] as number[] };
let measuring = false;
const cdc = await startCdc(config, makeLogger({ level: 'warn', component: 'bench-cdc' }), {
  observe: (kind, latency) => {
    if (measuring) samples[kind].push(latency * 1000);
  },
});

// Wait until the consumer streams (slot created, reconcile done), then measure.
for (let i = 0; i < 100 && cdc.consumer.status().role !== 'active'; i += 1) {
  await new Promise((resolve) => setTimeout(resolve, 100));
}
await new Promise((resolve) => setTimeout(resolve, 1_000));
measuring = true;

const prefix = randomBytes(3).toString('hex');
let sent = 0;
let failed = 0;
const inFlight = new Set<Promise<unknown>>();
const perTick = rate / 100;
let owed = 0;
const started = Date.now();
console.error(`placing ${rate} orders/s for ${seconds} s ...`);
while (Date.now() - started < seconds * 1000) {
  owed += perTick;
  while (owed >= 1) {
    owed -= 1;
    const i = sent++;
    const phone = `+3584${String(10_000_000 + ((parseInt(prefix, 16) + i * 7919) % 89_999_999))}`;
    const p = api
      .query('select outcome from crs.place_order($1, $2, $3, $4, $5, $6, $7, $8)', [
        `bench-${prefix}-${i}`,
        'bench-cdc',
        phone,
        'Bench',
        'Mark',
        phone,
        randomBytes(32),
        randomBytes(16),
      ])
      .catch(() => (failed += 1))
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }
  const nextTick = started + Math.ceil((Date.now() - started + 1) / 10) * 10;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, nextTick - Date.now())));
}
await Promise.all(inFlight);
const elapsed = (Date.now() - started) / 1000;
await new Promise((resolve) => setTimeout(resolve, 2_000));
await cdc.stop();
// Dropping a slot needs the replication role.
const replication = new pg.Client({ connectionString: config.databaseUrl });
await replication.connect();
await replication.query(
  `select pg_drop_replication_slot($1) from pg_replication_slots where slot_name = $1`,
  [slot],
);
await replication.end();
await owner.end();
await api.end();

const summary = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: +percentile(sorted, 50).toFixed(1),
    p95: +percentile(sorted, 95).toFixed(1),
    p99: +percentile(sorted, 99).toFixed(1),
    max: +(sorted[sorted.length - 1] ?? NaN).toFixed(1),
  };
};
const result = {
  ordersPerSecondTarget: rate,
  ordersPerSecondAchieved: +(sent / elapsed).toFixed(0),
  failed,
  commitToRedisMs: summary(samples.redis),
  commitToJobMs: summary(samples.job),
};
console.log(JSON.stringify(result, null, 2));
