/**
 * The local backing services (`crs services`, and the first step of `crs start`): whatever
 * the environment does not already point to is started here, from the machine's own binaries,
 * with state under the data directory: Postgres, Redis and RabbitMQ (the S3 store comes with
 * the renderer).
 */
import { join } from 'node:path';
import { readInteger } from '../common/config.js';
import { makeObjectStore } from '../common/objectStore.js';
import { dataDir } from '../common/paths.js';
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
  /**
   * A component's environment: `base` without any credential (the user's environment may hold
   * some), plus the connections, keys and tokens that component uses, and no other's.
   */
  componentEnv(name: Component, base: Env): Env;
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

export type Component = 'api' | 'cdc' | 'renderer';

/**
 * Variables that hold a credential, or a connection string with one in it. A process started
 * by `crs start` (or the drills) gets only those of its own (OWN_VARS): a renderer that is
 * broken into cannot read the owner's database URL, another role's password, the tokens or
 * the order-token key, or an S3 key with more rights than its own.
 */
export const CREDENTIAL_VARS = [
  'DATABASE_URL',
  'API_DATABASE_URL',
  'CDC_DATABASE_URL',
  'RENDERER_DATABASE_URL',
  'REDIS_URL',
  'AMQP_URL',
  'S3_ACCESS_KEY',
  'S3_SECRET_KEY',
  'CRS_S3_API_ACCESS_KEY',
  'CRS_S3_API_SECRET_KEY',
  'CRS_S3_RENDERER_ACCESS_KEY',
  'CRS_S3_RENDERER_SECRET_KEY',
  'ADMIN_TOKEN',
  'STAFF_TOKEN',
  'ORDER_TOKEN_KEY',
  'PGPASSWORD',
] as const;

/** What each component connects to and signs with (common/config.ts reads these). */
const OWN_VARS: Record<Component, readonly string[]> = {
  api: [
    'API_DATABASE_URL',
    'REDIS_URL',
    'AMQP_URL',
    'S3_ENDPOINT',
    'S3_BUCKET',
    'S3_ACCESS_KEY',
    'S3_SECRET_KEY',
    'ADMIN_TOKEN',
    'STAFF_TOKEN',
    'ORDER_TOKEN_KEY',
  ],
  cdc: ['CDC_DATABASE_URL', 'REDIS_URL', 'AMQP_URL'],
  renderer: ['RENDERER_DATABASE_URL', 'S3_ENDPOINT', 'S3_BUCKET', 'S3_ACCESS_KEY', 'S3_SECRET_KEY'],
};

const DATABASE_URL_VAR: Record<Component, string> = {
  api: 'API_DATABASE_URL',
  cdc: 'CDC_DATABASE_URL',
  renderer: 'RENDERER_DATABASE_URL',
};

/** `base` without credentials, plus the component's own from `vars` and `keys`. */
export function envForComponent(
  name: Component,
  base: Env,
  vars: Record<string, string>,
  keys: Record<string, string> = {},
): Env {
  const env: Env = { ...base };
  for (const variable of CREDENTIAL_VARS) delete env[variable];
  const available: Record<string, string | undefined> = {
    ...vars,
    // A database given as one URL (DATABASE_URL) is every role's: the user's choice.
    [DATABASE_URL_VAR[name]]: vars[DATABASE_URL_VAR[name]] ?? vars['DATABASE_URL'],
    ...keys,
  };
  for (const variable of OWN_VARS[name]) {
    const value = available[variable];
    if (value !== undefined) env[variable] = value;
  }
  return env;
}

interface Stoppable {
  stop(): Promise<void>;
}

export async function startLocalServices(env: Env, progress: (line: string) => void): Promise<LocalServices> {
  const secrets = await loadOrCreateSecrets(dataDir(env));
  const vars: Record<string, string> = {};
  const started: string[] = [];
  // The API's and the renderer's own S3 keys where the store is ours (each held to its policy).
  const componentKeys: Partial<Record<Component, Record<string, string>>> = {};
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
      componentKeys.api = { S3_ACCESS_KEY: secrets.s3ApiAccessKey, S3_SECRET_KEY: secrets.s3ApiSecretKey };
      componentKeys.renderer = {
        S3_ACCESS_KEY: secrets.s3RendererAccessKey,
        S3_SECRET_KEY: secrets.s3RendererSecretKey,
      };
      // A store left running by an earlier `crs services --detach` of a version without
      // per-component keys would refuse them: say so, rather than hand out the admin key.
      if (state !== 'started') await requireRoleKeys(s3.url, vars['S3_BUCKET'], componentKeys.api);
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
    componentEnv: (name, base) => envForComponent(name, base, vars, componentKeys[name]),
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

/** Throws unless the running S3 store knows this key (InvalidAccessKeyId otherwise). */
async function requireRoleKeys(endpoint: string, bucket: string, keys: Record<string, string>) {
  const { client } = makeObjectStore({
    endpoint,
    accessKey: keys['S3_ACCESS_KEY'] as string,
    secretKey: keys['S3_SECRET_KEY'] as string,
    bucket,
    region: 'us-east-1',
  });
  try {
    // Any answer but an unknown key will do: the API's key may not even list buckets.
    await client.statObject(bucket, 'orders/key-check.pdf');
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'InvalidAccessKeyId' || code === 'SignatureDoesNotMatch') {
      throw new Error(
        `the S3 store already running at ${endpoint} does not know the components' own keys ` +
          '(it was started by an older version): stop it with `crs services --stop` and start again',
        { cause: err },
      );
    }
  }
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
