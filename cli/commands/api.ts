import { makeWeb } from '../../web/pageRoutes.js';
import { startApi } from '../../api/server.js';
import { loadApiConfig } from '../../common/config.js';
import { makeLogger } from '../../common/log.js';
import { wantsHelp, type Command } from '../command.js';
import { waitForStopSignal } from '../../common/stopSignal.js';

export const apiCommand: Command = {
  name: 'api',
  summary: 'run the HTTP API (Koa)',
  help: `Usage: crs api

Runs the HTTP API until SIGTERM or SIGINT, then drains: readiness fails, in-flight requests
finish (SHUTDOWN_GRACE_MS), connections close.

Environment: PORT (3000), HOST (0.0.0.0), API_PROBE_PORT (none: /healthz, /readyz and /metrics
alone on a port of their own, besides PORT), API_DATABASE_URL or DATABASE_URL (connect as
crs_api), API_DATABASE_POOL_SIZE (20), ADMIN_TOKEN, STAFF_TOKEN, ORDER_TOKEN_KEY (each at least
32 characters), DEFAULT_PRODUCT_ID (default), DEFAULT_COUNTRY (FI, for phone numbers without
+country), PUBLIC_URL, RATE_LIMIT (on|off), RATE_LIMIT_ORDERS_PER_MINUTE (30, per address),
RATE_LIMIT_CUSTOMER_ORDERS_PER_MINUTE (5), RATE_LIMIT_STAFF_PER_MINUTE (120, per token),
RATE_LIMIT_AUTH_FAILURES_PER_MINUTE (10, per address), BODY_LIMIT_BYTES (16384),
HTTP_REQUEST_TIMEOUT_MS (30000), HTTP_HEADERS_TIMEOUT_MS (10000), HTTP_KEEP_ALIVE_TIMEOUT_MS
(5000), MAX_EVENT_STREAMS (2000), MAX_EVENT_STREAMS_PER_ADDRESS (32), MAX_EVENT_STREAMS_PER_ORDER
(4), NET_KEEPALIVE_MS (5000), NET_CONNECT_TIMEOUT_MS (5000), PG_QUERY_TIMEOUT_MS (10000),
AMQP_HEARTBEAT_S (5), LOG_LEVEL (info). The rate limits live in REDIS_URL, shared by every replica.`,
  async run(args, env) {
    if (wantsHelp(args)) {
      console.log(this.help);
      return 0;
    }
    const config = loadApiConfig(env);
    const log = makeLogger({ level: config.logLevel, component: 'api', format: config.logFormat });
    const api = await startApi(config, log, { pages: makeWeb });
    log.info({ url: api.url }, 'api listening');
    const signal = await waitForStopSignal();
    log.info({ signal }, 'stopping');
    await api.stop();
    return 0;
  },
};
