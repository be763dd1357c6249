import { loadRendererConfig } from '../../common/config.js';
import { makeLogger } from '../../common/log.js';
import { surviveReleasedQueueFailures } from '../../renderer/releasedQueueFailure.js';
import { startRenderer } from '../../renderer/service.js';
import { wantsHelp, type Command } from '../command.js';
import { waitForStopSignal } from '../../common/stopSignal.js';

export const rendererCommand: Command = {
  name: 'renderer',
  summary: 'run the voucher renderer (graphile-worker, pdfkit)',
  help: `Usage: crs renderer

Sets up the vouchers bucket (create, object-created notifications to S3_NOTIFY_ARN, expiry
after VOUCHER_EXPIRY_DAYS), then runs the graphile-worker task render_voucher: draws each
order's voucher PDF, stores it under orders/<orderId>.pdf and records it (the order becomes
voucher_ready). Daily at 03:17 UTC (cron) it runs purge_personal_data: names and phone numbers
of orders redeemed or expired more than PII_RETENTION_DAYS ago are removed. SIGTERM lets
running jobs finish.

Environment: RENDERER_DATABASE_URL or DATABASE_URL (role crs_renderer), S3_ENDPOINT,
S3_ACCESS_KEY, S3_SECRET_KEY, S3_BUCKET (vouchers), S3_REGION (us-east-1), S3_NOTIFY_ARN
(arn:minio:sqs::crs:amqp), VOUCHER_EXPIRY_DAYS (90), PII_RETENTION_DAYS (30),
RENDERER_CONCURRENCY (4), RENDERER_LEASE_MS (20000), RENDERER_PORT
(3002: /healthz, /readyz, /metrics), NET_KEEPALIVE_MS (5000), NET_CONNECT_TIMEOUT_MS (5000), PG_QUERY_TIMEOUT_MS (10000),
AMQP_HEARTBEAT_S (5), LOG_LEVEL.`,
  async run(args, env) {
    if (wantsHelp(args)) {
      console.log(this.help);
      return 0;
    }
    const config = loadRendererConfig(env);
    const log = makeLogger({ level: config.logLevel, component: 'renderer', format: config.logFormat });
    surviveReleasedQueueFailures(log);
    const renderer = await startRenderer(config, log);
    log.info({ probes: renderer.probes.url, concurrency: config.concurrency }, 'renderer running');
    const signal = await waitForStopSignal();
    log.info({ signal }, 'stopping');
    await renderer.stop();
    return 0;
  },
};
