import { parseArgs } from 'node:util';
import { loadCdcConfig, readChangeStream, readNetwork } from '../../common/config.js';
import { makeLogger } from '../../common/log.js';
import {
  parseStreamStart,
  readChangeStream as readStream,
  type StreamStart,
} from '../../cdc/changeStream.js';
import { startCdc } from '../../cdc/service.js';
import { tailChanges } from '../../cdc/walTail.js';
import { UsageError, wantsHelp, type Command } from '../command.js';
import { waitForStopSignal } from '../../common/stopSignal.js';

export const cdcCommand: Command = {
  name: 'cdc',
  summary: 'run the change-data-capture consumer (or read the change feed: `crs cdc tail`)',
  help: `Usage: crs cdc [tail [--from first|last|next|<offset>|<ISO time>] [--type <pattern>]... [--follow] | wal]

  crs cdc        Streams committed changes from the logical replication slot CDC_SLOT over the
                 publication CDC_PUBLICATION and, per batch of transactions: writes the stock
                 flag to Redis/Dragonfly (newer-wins by commit LSN) and announces it on the
                 pub/sub channel crs:stock, queues one render_voucher job per new order, and
                 publishes every change as a CloudEvent to the RabbitMQ topic exchange
                 crs.changes (with confirms), which also feeds the stream CHANGE_STREAM. Only
                 then acknowledges the batch's LSN. Several replicas may run:
                 one is active, the others stand by and take over when it dies. Creates the
                 slot when missing, and then reconciles. SIGTERM finishes the batch in hand,
                 acknowledges it and releases the slot.
  crs cdc tail   Reads the change feed back from its RabbitMQ stream (CHANGE_STREAM) and prints
                 one CloudEvent per line (JSON), with the extension streamoffset added: the
                 place to resume from (--from <streamoffset + 1>).
                   --from     first (default: the oldest retained event), last, next (only new
                              ones), an offset, or an ISO 8601 time (the first event at or after)
                   --type     only these changes, as RabbitMQ topic patterns over the change
                              name: order.created, order.*, #.changed (repeatable)
                   --follow   keep reading new events until Ctrl-C; without it, stops at the
                              stream's end as it was when the read began
                 Needs AMQP_URL (a user allowed to read the stream).
  crs cdc wal    Prints the decoded replication stream (rows, not events) as JSON lines,
                 through a temporary slot of its own (never the service's). Ctrl-C stops it.

Environment: CDC_DATABASE_URL or DATABASE_URL (role crs_cdc), REDIS_URL, AMQP_URL, CDC_SLOT
(crs_cdc), CDC_PUBLICATION (crs_changes), CDC_PORT (3001: /healthz, /readyz, /metrics),
CDC_BATCH_MAX (500), CDC_QUEUE_MAX (20000), CDC_STANDBY_RETRY_MS (1000), CDC_STREAM_TIMEOUT_MS
(15000), CDC_STALL_MS (30000), CDC_STOCK_CHECK_MS (10000, 0: no drift guard),
CHANGE_STREAM (crs.changes.stream, off: none), CHANGE_STREAM_MAX_AGE (7D),
CHANGE_STREAM_MAX_BYTES (1073741824), CHANGE_FEED_SOURCE (crs://<db host>:<port>/<db>),
NET_KEEPALIVE_MS (5000), NET_CONNECT_TIMEOUT_MS (5000), PG_QUERY_TIMEOUT_MS (10000),
AMQP_HEARTBEAT_S (5), LOG_LEVEL.`,
  async run(args, env) {
    if (wantsHelp(args)) {
      console.log(this.help);
      return 0;
    }
    if (args[0] === 'tail') return tailStream(args.slice(1), env);
    if (args.length > 1 || (args[0] !== undefined && args[0] !== 'wal')) {
      throw new UsageError(`unknown arguments: ${args.join(' ')} (see crs cdc --help)`);
    }
    if (args[0] === 'wal') {
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

/** `crs cdc tail`: the change stream as CloudEvents, one JSON line each. */
async function tailStream(args: string[], env: Record<string, string | undefined>): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        from: { type: 'string', default: 'first' },
        type: { type: 'string', multiple: true, default: [] },
        follow: { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message} (see crs cdc --help)`);
  }
  let from: StreamStart;
  try {
    from = parseStreamStart(parsed.values.from);
  } catch (err) {
    throw new UsageError(`--from: ${(err as Error).message}`);
  }
  for (const pattern of parsed.values.type) {
    if (!/^(\*|#|[a-z]+)(\.(\*|#|[a-z]+))*$/.test(pattern)) {
      throw new UsageError(`--type: "${pattern}" is not a topic pattern over a change name (e.g. order.*)`);
    }
  }
  const url = env['AMQP_URL'];
  if (!url) throw new UsageError('AMQP_URL is not set (amqp://user:password@host:port of RabbitMQ)');
  const stream = readChangeStream(env).name;
  if (!stream) throw new UsageError('CHANGE_STREAM is off: there is no stream to read');
  const stop = new AbortController();
  void waitForStopSignal().then(() => stop.abort());
  const { read, lastOffset } = await readStream({
    url,
    network: readNetwork(env),
    stream,
    from,
    follow: parsed.values.follow,
    types: parsed.values.type,
    signal: stop.signal,
    onReady: () => {
      const until = parsed.values.follow ? 'following (Ctrl-C to stop)' : 'to its end';
      process.stderr.write(`reading ${stream} from ${parsed.values.from}, ${until}\n`);
    },
    onEvent: ({ offset, event }) => {
      process.stdout.write(JSON.stringify({ ...event.toJSON(), streamoffset: offset }) + '\n');
    },
    onInvalid: (offset, reason) => {
      process.stderr.write(`offset ${offset}: skipped, not a change feed event: ${reason}\n`);
    },
  });
  process.stderr.write(
    `${read} event${read === 1 ? '' : 's'}${lastOffset === undefined ? '' : `, last offset ${lastOffset}`}\n`,
  );
  return 0;
}
