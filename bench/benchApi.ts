/**
 * The API as `crs api` runs it, with one difference chosen by BENCH_DECIDE, so that the intake
 * benchmark compares decisions through the very same HTTP stack:
 *   batched   the production path: group commit in front of crs.place_orders;
 *   original  the original design: one bench_original.place_order call per order (both
 *             tables ACCESS EXCLUSIVE), on a pool of the owner role, in the bench database only.
 * Both also answer GET /bench/noop, a trivial route through the same middleware: the HTTP
 * ceiling. Run by bench/stack.ts as a process of its own; configured like `crs api`.
 */
import { Router } from '@koa/router';
import { startApi } from '../api/server.js';
import type { PlaceOrderInput, PlaceOrderResult } from '../api/database/placeOrder.js';
import { loadApiConfig } from '../common/config.js';
import { makePool, type Pool } from '../common/db.js';
import { makeLogger } from '../common/log.js';
import { waitForStopSignal } from '../cli/command.js';

const decide = process.env['BENCH_DECIDE'];
if (decide !== 'batched' && decide !== 'original') {
  console.error('bench api: BENCH_DECIDE must be "batched" or "original"');
  process.exit(2);
}
const config = loadApiConfig(process.env);
const log = makeLogger({ level: config.logLevel, component: `bench-api-${decide}` });

const noop = new Router();
noop.get('/bench/noop', (ctx) => {
  ctx.body = { ok: true };
});

/** One order per transaction through the original design's procedure. */
function originalDecision(owner: Pool) {
  return async (input: PlaceOrderInput): Promise<PlaceOrderResult> => {
    const { rows } = await owner.query<{ outcome: PlaceOrderResult['outcome']; status: string | null }>({
      name: 'original_place_order',
      text: 'select outcome, status from bench_original.place_order($1, $2, $3, $4, $5, $6, $7, $8)',
      values: [
        input.orderId,
        input.productId,
        input.customerKey,
        input.firstName,
        input.lastName,
        input.phone,
        input.tokenHash,
        input.tokenSalt,
      ],
    });
    const row = rows[0];
    if (!row) throw new Error('bench_original.place_order returned no row');
    // The original stored no tokens: a replay cannot re-derive one, so the bench never replays.
    return {
      outcome: row.outcome,
      orderId: input.orderId,
      status: row.status,
      tokenSalt: null,
      createdAt: null,
    };
  };
}

let ownerPool: Pool | undefined;
const api = await startApi(config, log, {
  routers: [noop],
  ...(decide === 'original' && {
    orders: () => {
      const ownerUrl = process.env['DATABASE_URL'];
      if (!ownerUrl) throw new Error('bench api: DATABASE_URL (the owner) is needed for the original design');
      ownerPool = makePool(
        { connectionString: ownerUrl, applicationName: 'crs-bench-original', max: config.databasePoolSize },
        log,
      );
      const pool = ownerPool;
      return { decide: originalDecision(pool), depth: () => ({ queued: 0, inFlight: 0 }) };
    },
  }),
});
log.info({ url: api.url, decide }, 'bench api listening');
await waitForStopSignal();
await api.stop();
await ownerPool?.end();
