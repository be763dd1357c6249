/**
 * The local backing services (`crs services`, and the first step of `crs start`): whatever
 * the environment does not already point to is started here, from the machine's own binaries,
 * with state under the data directory: Postgres, Redis and RabbitMQ (the S3 store comes with
 * the renderer).
 */
import { join } from 'node:path';
import { readInteger } from '../../common/config.js';
import { dataDir } from '../../common/paths.js';
import { bootstrapDatabase } from './bootstrap.js';
import { makeLocalPostgres, type LocalPostgres } from './postgres.js';
import { makeLocalRabbitMq } from './rabbitmq.js';
import { makeLocalRedis } from './redis.js';
import { makeLocalS3Store } from './s3StoreProcess.js';
import { loadOrCreateSecrets } from './secrets.js';

type Env = Record<string, string | undefined>;

export const LOCAL_DATABASE = 'crs';

export interface LocalServices {
  /** The variables the components need, in the order they are printed. */
  vars: Record<string, string>;
  /**
   * Per component, what replaces `vars` for it: the API's read key and the renderer's write key
   * for the local S3 store (as MinIO's users in Kubernetes). Empty when the store is not ours.
   */
  componentVars: { api: Record<string, string>; renderer: Record<string, string> };
  /** What was started here (and so is ours to stop). */
  started: string[];
  postgres: LocalPostgres | undefined;
  stop(): Promise<void>;
}

export function localPostgres(env: Env, secrets: { postgresPassword: string }) {
  return makeLocalPostgres({
    dir: join(dataDir(env), 'postgres'),
    port: readInteger(env, 'CRS_PG_PORT', 54329, 1024, 65535),
    superuserPassword: secrets.postgresPassword,
    env,
  });
}

export function localRedis(env: Env) {
  return makeLocalRedis({
    dir: join(dataDir(env), 'redis'),
    port: readInteger(env, 'CRS_REDIS_PORT', 56379, 1024, 65535),
    persist: true,
    env,
  });
}

export function localS3Store(env: Env, vars: Record<string, string>) {
  return makeLocalS3Store({
    dir: join(dataDir(env), 's3'),
    port: readInteger(env, 'CRS_S3_PORT', 56900, 1024, 65535),
    env: { ...env, ...vars },
  });
}

export function localRabbitMq(env: Env) {
  return makeLocalRabbitMq({
    dir: join(dataDir(env), 'rabbitmq'),
    port: readInteger(env, 'CRS_AMQP_PORT', 56720, 1024, 60000),
    env,
  });
}

interface Stoppable {
  stop(): Promise<void>;
}

export async function startLocalServices(env: Env, progress: (line: string) => void): Promise<LocalServices> {
  const secrets = await loadOrCreateSecrets(dataDir(env));
  const vars: Record<string, string> = {};
  const started: string[] = [];
  const componentVars: LocalServices['componentVars'] = { api: {}, renderer: {} };
  const ours: [string, Stoppable][] = [];
  let postgres: LocalPostgres | undefined;
  // A service that fails to start must not leave the ones before it running (their ports
  // would refuse the next attempt): stop what this call started, then fail.
  try {
    if (env['DATABASE_URL']) {
      vars['DATABASE_URL'] = env['DATABASE_URL'];
      for (const name of ['API_DATABASE_URL', 'CDC_DATABASE_URL', 'RENDERER_DATABASE_URL']) {
        if (env[name]) vars[name] = env[name];
      }
    } else {
      postgres = localPostgres(env, secrets);
      progress(`postgres: starting on 127.0.0.1:${postgres.port} (data in ${postgres.dir})`);
      const state = await postgres.start();
      if (state === 'started') {
        started.push('postgres');
        ours.push(['postgres', postgres]);
      }
      progress(`postgres: ${state}`);
      const urls = await bootstrapDatabase(postgres.superuserUrl, LOCAL_DATABASE, {
        owner: secrets.ownerPassword,
        api: secrets.apiPassword,
        cdc: secrets.cdcPassword,
        renderer: secrets.rendererPassword,
      });
      vars['DATABASE_URL'] = urls.owner;
      vars['API_DATABASE_URL'] = urls.api;
      vars['CDC_DATABASE_URL'] = urls.cdc;
      vars['RENDERER_DATABASE_URL'] = urls.renderer;
    }

    if (env['REDIS_URL']) {
      vars['REDIS_URL'] = env['REDIS_URL'];
    } else {
      const redis = localRedis(env);
      progress(`redis: starting on 127.0.0.1:${redis.port}`);
      const state = await redis.start();
      if (state === 'started') {
        started.push('redis');
        ours.push(['redis', redis]);
      }
      progress(`redis: ${state}`);
      vars['REDIS_URL'] = redis.url;
    }

    if (env['AMQP_URL']) {
      vars['AMQP_URL'] = env['AMQP_URL'];
    } else {
      const rabbitmq = localRabbitMq(env);
      progress(`rabbitmq: starting on 127.0.0.1:${rabbitmq.port} (data in ${rabbitmq.dir})`);
      const state = await rabbitmq.start();
      if (state === 'started') {
        started.push('rabbitmq');
        ours.push(['rabbitmq', rabbitmq]);
      }
      progress(`rabbitmq: ${state}`);
      vars['AMQP_URL'] = rabbitmq.url;
    }

    if (env['S3_ENDPOINT']) {
      for (const name of ['S3_ENDPOINT', 'S3_ACCESS_KEY', 'S3_SECRET_KEY', 'S3_BUCKET']) {
        if (env[name]) vars[name] = env[name];
      }
    } else {
      const s3 = localS3Store(env, {
        S3_ACCESS_KEY: secrets.s3AccessKey,
        S3_SECRET_KEY: secrets.s3SecretKey,
        CRS_S3_API_ACCESS_KEY: secrets.s3ApiAccessKey,
        CRS_S3_API_SECRET_KEY: secrets.s3ApiSecretKey,
        CRS_S3_RENDERER_ACCESS_KEY: secrets.s3RendererAccessKey,
        CRS_S3_RENDERER_SECRET_KEY: secrets.s3RendererSecretKey,
        S3_BUCKET: env['S3_BUCKET'] ?? 'vouchers',
        AMQP_URL: vars['AMQP_URL'] as string,
      });
      progress(`s3 store: starting on 127.0.0.1:${s3.port}`);
      const state = await s3.start();
      if (state === 'started') {
        started.push('s3');
        ours.push(['s3 store', s3]);
      }
      progress(`s3 store: ${state}`);
      vars['S3_ENDPOINT'] = s3.url;
      vars['S3_ACCESS_KEY'] = secrets.s3AccessKey;
      vars['S3_SECRET_KEY'] = secrets.s3SecretKey;
      vars['S3_BUCKET'] = env['S3_BUCKET'] ?? 'vouchers';
      // A store left running by an earlier `crs services --detach` may predate these keys:
      // then everyone keeps the admin key.
      if (state === 'started') {
        componentVars.api = { S3_ACCESS_KEY: secrets.s3ApiAccessKey, S3_SECRET_KEY: secrets.s3ApiSecretKey };
        componentVars.renderer = {
          S3_ACCESS_KEY: secrets.s3RendererAccessKey,
          S3_SECRET_KEY: secrets.s3RendererSecretKey,
        };
      }
    }
  } catch (err) {
    for (const [name, service] of ours.reverse()) {
      progress(`${name}: stopping (start-up failed)`);
      await service.stop().catch(() => undefined);
    }
    throw err;
  }

  vars['ADMIN_TOKEN'] = env['ADMIN_TOKEN'] ?? secrets.adminToken;
  vars['STAFF_TOKEN'] = env['STAFF_TOKEN'] ?? secrets.staffToken;
  vars['ORDER_TOKEN_KEY'] = env['ORDER_TOKEN_KEY'] ?? secrets.orderTokenKey;

  return {
    vars,
    componentVars,
    started,
    postgres,
    async stop() {
      for (const [name, service] of ours.reverse()) {
        progress(`${name}: stopping`);
        await service.stop();
      }
    },
  };
}

/** Stops what `crs services --detach` left running. */
export async function stopLocalServices(env: Env, progress: (line: string) => void) {
  const secrets = await loadOrCreateSecrets(dataDir(env));
  const services: [string, Stoppable & { isRunning(): Promise<boolean> }][] = [
    ['s3 store', localS3Store(env, {})],
    ['rabbitmq', localRabbitMq(env)],
    ['redis', localRedis(env)],
    ['postgres', localPostgres(env, secrets)],
  ];
  for (const [name, service] of services) {
    if (await service.isRunning()) {
      progress(`${name}: stopping`);
      await service.stop();
    }
  }
  progress('stopped');
}

/** `export NAME='value'` lines a POSIX shell can eval. */
export function exportLines(vars: Record<string, string>): string {
  return Object.entries(vars)
    .map(([name, value]) => `export ${name}='${value.replaceAll("'", `'\\''`)}'`)
    .join('\n');
}
