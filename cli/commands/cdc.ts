import { loadCdcConfig } from '../../common/config.js';
import { makeLogger } from '../../common/log.js';
import { startCdc } from '../../cdc/service.js';
import { tailChanges } from '../../cdc/tail.js';
import { UsageError, waitForStopSignal, wantsHelp, type Command } from '../command.js';

export const cdcCommand: Command = {
  name: 'cdc',
  summary: 'run the change-data-capture consumer (or `crs cdc tail`)',
  help: `Usage: crs cdc [tail]

  crs cdc        Streams committed changes from the logical replication slot CDC_SLOT over the
                 publication CDC_PUBLICATION and, per batch of transactions: writes the stock
                 flag to Redis/Dragonfly (newer-wins by commit LSN) and announces it on the
                 pub/sub channel crs:stock, queues one render_voucher job per new order, and
                 publishes every change to the RabbitMQ topic exchange crs.changes (with
                 confirms). Only then acknowledges the batch's LSN. Several replicas may run:
                 one is active, the others stand by and take over when it dies. Creates the
                 slot when missing, and then reconciles. SIGTERM finishes the batch in hand,
                 acknowledges it and releases the slot.
  crs cdc tail   Prints the decoded change stream as JSON lines, through a temporary slot of
                 its own (never the service's). Ctrl-C stops it.

Environment: CDC_DATABASE_URL or DATABASE_URL (role crs_cdc), REDIS_URL, AMQP_URL, CDC_SLOT
(crs_cdc), CDC_PUBLICATION (crs_changes), CDC_PORT (3001: /healthz, /readyz, /metrics),
CDC_BATCH_MAX (500), CDC_QUEUE_MAX (20000), CDC_STANDBY_RETRY_MS (1000), CDC_STREAM_TIMEOUT_MS
(15000), CDC_STALL_MS (30000), CDC_STOCK_CHECK_MS (10000, 0: no drift guard),
NET_KEEPALIVE_MS (5000), NET_CONNECT_TIMEOUT_MS (5000), PG_QUERY_TIMEOUT_MS (10000),
AMQP_HEARTBEAT_S (5), LOG_LEVEL.`,
  async run(args, env) {
    if (wantsHelp(args)) {
      console.log(this.help);
      return 0;
    }
    if (args.length > 1 || (args[0] !== undefined && args[0] !== 'tail')) {
      throw new UsageError(`unknown arguments: ${args.join(' ')} (see crs cdc --help)`);
    }
    if (args[0] === 'tail') {
      // tail needs only the database: no Redis or RabbitMQ variables required.
      const config = loadCdcConfig({ REDIS_URL: 'redis://unused', AMQP_URL: 'amqp://unused', ...env });
      const stop = new AbortController();
      void waitForStopSignal().then(() => stop.abort());
      await tailChanges({
        databaseUrl: config.databaseUrl,
        publicationName: config.publicationName,
        write: (line) => process.stdout.write(line + '\n'),
        signal: stop.signal,
      });
      return 0;
    }
    const config = loadCdcConfig(env);
    const log = makeLogger({ level: config.logLevel, component: 'cdc', format: config.logFormat });
    const cdc = await startCdc(config, log);
    log.info({ probes: cdc.probes.url, slot: config.slotName }, 'cdc running');
    const signal = await waitForStopSignal();
    log.info({ signal }, 'stopping');
    await cdc.stop();
    return 0;
  },
};
