import { join } from 'node:path';
import { readInteger } from '../../common/config.js';
import { makeLogger } from '../../common/log.js';
import { dataDir } from '../../common/paths.js';
import { startS3Store } from '../../deploy/local/s3Store.js';
import { waitForStopSignal, wantsHelp, type Command } from '../command.js';
import { ConfigError } from '../../common/config.js';

export const s3StoreCommand: Command = {
  name: 's3-store',
  summary: 'run the local S3 store (started for you by crs services)',
  help: `Usage: crs s3-store

The local stand-in for MinIO: an S3-compatible server (s3rver) on 127.0.0.1 that publishes
MinIO's exact AMQP bucket notification for every stored object. crs services starts it in
the background when S3_ENDPOINT is not set; run it by hand only to debug it.

Environment: CRS_S3_PORT (56900), CRS_DATA_DIR (.data; objects in <data dir>/s3),
S3_ACCESS_KEY, S3_SECRET_KEY, AMQP_URL, AMQP_VOUCHER_EXCHANGE (crs.vouchers),
AMQP_VOUCHER_ROUTING_KEY (vouchers), LOG_LEVEL.

Not like MinIO: no bucket notification or lifecycle configuration (the notifications are
published anyway; nothing expires), and request signatures are not verified (only the access
key is): it listens on the loopback interface only.`,
  async run(args, env) {
    if (wantsHelp(args)) {
      console.log(this.help);
      return 0;
    }
    for (const name of ['S3_ACCESS_KEY', 'S3_SECRET_KEY', 'AMQP_URL']) {
      if (!env[name]) throw new ConfigError(name, 'is required');
    }
    const log = makeLogger({
      level: env['LOG_LEVEL'] === 'silent' ? 'silent' : 'info',
      component: 's3-store',
    });
    const store = await startS3Store({
      port: readInteger(env, 'CRS_S3_PORT', 56900, 1024, 65535),
      directory: join(dataDir(env), 's3'),
      accessKey: env['S3_ACCESS_KEY'] as string,
      secretKey: env['S3_SECRET_KEY'] as string,
      amqpUrl: env['AMQP_URL'] as string,
      exchange: env['AMQP_VOUCHER_EXCHANGE'] ?? 'crs.vouchers',
      routingKey: env['AMQP_VOUCHER_ROUTING_KEY'] ?? 'vouchers',
      log,
    });
    log.info({ url: store.url }, 'local S3 store listening');
    await waitForStopSignal();
    await store.close();
    return 0;
  },
};
