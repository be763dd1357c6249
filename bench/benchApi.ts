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
import { makeWeb } from '../web/pageRoutes.js';
import { loadApiConfig } from '../common/config.js';
import { makePool, type Pool } from '../common/db.js';
import { makeLogger } from '../common/log.js';
import { waitForStopSignal } from '../common/stopSignal.js';
import { originalDecision } from './originalDesign.js';

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

let ownerPool: Pool | undefined;
const api = await startApi(config, log, {
  pages: makeWeb,
  routers: [noop],
  ...(decide === 'original' && {
    intake: () => {
      const ownerUrl = process.env['DATABASE_URL'];
      if (!ownerUrl) throw new Error('bench api: DATABASE_URL (the owner) is needed for the original design');
      ownerPool = makePool(
        { connectionString: ownerUrl, applicationName: 'crs-bench-original', max: config.databasePoolSize },
        log,
      );
      return { decide: originalDecision(ownerPool) };
    },
  }),
});
log.info({ url: api.url, decide }, 'bench api listening');
await waitForStopSignal();
await api.stop();
await ownerPool?.end();
