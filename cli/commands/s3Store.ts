import { join } from 'node:path';
import type { LevelWithSilent } from 'pino';
import { readInteger } from '../../common/config.js';
import { makeLogger } from '../../common/log.js';
import { dataDir } from '../../common/paths.js';
import type { StoreKey } from '../../devstack/s3Gate.js';
import type { RolePolicyName } from '../../devstack/s3Policy.js';
import { wantsHelp, type Command } from '../command.js';
import { waitForStopSignal } from '../../common/stopSignal.js';
import { loadLocalStack } from '../localStack.js';
import { ConfigError } from '../../common/config.js';

export const s3StoreCommand: Command = {
  name: 's3-store',
  summary: 'run the local S3 store (started for you by crs services)',
  help: `Usage: crs s3-store

The local stand-in for MinIO: an S3-compatible server (s3rver) on 127.0.0.1 that publishes
MinIO's exact AMQP bucket notification for every stored object. crs services starts it in
the background when S3_ENDPOINT is not set; run it by hand only to debug it.

Keys, as MinIO has them in Kubernetes: S3_ACCESS_KEY/S3_SECRET_KEY may do anything (MinIO's
root user); CRS_S3_API_ACCESS_KEY/CRS_S3_API_SECRET_KEY and CRS_S3_RENDERER_ACCESS_KEY/
CRS_S3_RENDERER_SECRET_KEY, when given, may do only what the policies crs-api and
crs-renderer (deploy/kubernetes/base/minio/policies) allow on S3_BUCKET (vouchers), which is
created at start. Anything else is answered 403 AccessDenied; requests without a key, with an
unknown key or a wrong signature are refused.

Fault injection: SIGUSR2 makes the store refuse object writes (PUT, POST) with 503 SlowDown
for CRS_S3_FAULT_REFUSE_MS (10000) milliseconds, while reads go on; start and end are logged.

Environment: CRS_S3_PORT (56900), CRS_DATA_DIR (.data; objects in <data dir>/s3),
S3_ACCESS_KEY, S3_SECRET_KEY, the role keys above, S3_BUCKET (vouchers), AMQP_URL,
AMQP_VOUCHER_EXCHANGE (crs.vouchers), AMQP_VOUCHER_ROUTING_KEY (vouchers),
CRS_S3_FAULT_REFUSE_MS (10000), LOG_LEVEL.

Not like MinIO: no bucket notification or lifecycle configuration (the notifications are
published anyway; nothing expires); policies without conditions only; payload hashes are not
checked against the body. It listens on the loopback interface only.`,
  async run(args, env) {
    if (wantsHelp(args)) {
      console.log(this.help);
      return 0;
    }
    const { startS3Store, loadRolePolicy } = await loadLocalStack('crs s3-store', async () => ({
      ...(await import('../../devstack/s3Store.js')),
      ...(await import('../../devstack/s3Policy.js')),
    }));
    for (const name of ['S3_ACCESS_KEY', 'S3_SECRET_KEY', 'AMQP_URL']) {
      if (!env[name]) throw new ConfigError(name, 'is required');
    }
    const bucket = env['S3_BUCKET'] ?? 'vouchers';
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
      throw new ConfigError('S3_BUCKET', 'must be a valid bucket name (3-63 of a-z 0-9 . -)');
    }
    const refuseMs = readInteger(env, 'CRS_S3_FAULT_REFUSE_MS', 10_000, 1, 3_600_000);
    const roleKeys: StoreKey[] = [];
    for (const [role, prefix, policy] of [
      ['api', 'CRS_S3_API', 'crs-api'],
      ['renderer', 'CRS_S3_RENDERER', 'crs-renderer'],
    ] as [string, string, RolePolicyName][]) {
      const accessKey = env[`${prefix}_ACCESS_KEY`];
      const secretKey = env[`${prefix}_SECRET_KEY`];
      if (!accessKey && !secretKey) continue;
      if (!accessKey) throw new ConfigError(`${prefix}_ACCESS_KEY`, `is required with ${prefix}_SECRET_KEY`);
      if (!secretKey) throw new ConfigError(`${prefix}_SECRET_KEY`, `is required with ${prefix}_ACCESS_KEY`);
      roleKeys.push({ role, accessKey, secretKey, policy: loadRolePolicy(policy, bucket) });
    }
    const level = env['LOG_LEVEL'] ?? 'info';
    const log = makeLogger({
      level: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level)
        ? (level as LevelWithSilent)
        : 'info',
      component: 's3-store',
    });
    const store = await startS3Store({
      port: readInteger(env, 'CRS_S3_PORT', 56900, 1024, 65535),
      directory: join(dataDir(env), 's3'),
      accessKey: env['S3_ACCESS_KEY'] as string,
      secretKey: env['S3_SECRET_KEY'] as string,
      roleKeys,
      bucket,
      amqpUrl: env['AMQP_URL'] as string,
      exchange: env['AMQP_VOUCHER_EXCHANGE'] ?? 'crs.vouchers',
      routingKey: env['AMQP_VOUCHER_ROUTING_KEY'] ?? 'vouchers',
      log,
    });
    log.info({ url: store.url, bucket, roles: roleKeys.map((k) => k.role) }, 'local S3 store listening');
    // Fault injection (a suite sends it at chosen moments): without a listener SIGUSR2
    // would end the process.
    const onFault = () => store.refuseWrites(refuseMs);
    process.on('SIGUSR2', onFault);
    await waitForStopSignal();
    process.off('SIGUSR2', onFault);
    await store.close();
    return 0;
  },
};
