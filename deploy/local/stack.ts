/**
 * The local backing services (`crs services`, and the first step of `crs start`): whatever
 * the environment does not already point to is started here, from the machine's own binaries,
 * with state under the data directory. Later components add Redis, RabbitMQ and the S3 store.
 */
import { join } from 'node:path';
import { readInteger } from '../../common/config.js';
import { dataDir } from '../../common/paths.js';
import { bootstrapDatabase } from './bootstrap.js';
import { makeLocalPostgres, type LocalPostgres } from './postgres.js';
import { loadOrCreateSecrets } from './secrets.js';

type Env = Record<string, string | undefined>;

export const LOCAL_DATABASE = 'crs';

export interface LocalServices {
  /** The variables the components need, in the order they are printed. */
  vars: Record<string, string>;
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

export async function startLocalServices(env: Env, progress: (line: string) => void): Promise<LocalServices> {
  const secrets = await loadOrCreateSecrets(dataDir(env));
  const vars: Record<string, string> = {};
  const started: string[] = [];
  let postgres: LocalPostgres | undefined;

  if (env['DATABASE_URL']) {
    vars['DATABASE_URL'] = env['DATABASE_URL'];
    for (const name of ['API_DATABASE_URL', 'CDC_DATABASE_URL', 'RENDERER_DATABASE_URL']) {
      if (env[name]) vars[name] = env[name];
    }
  } else {
    postgres = localPostgres(env, secrets);
    progress(`postgres: starting on 127.0.0.1:${postgres.port} (data in ${postgres.dir})`);
    const state = await postgres.start();
    if (state === 'started') started.push('postgres');
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

  vars['ADMIN_TOKEN'] = env['ADMIN_TOKEN'] ?? secrets.adminToken;
  vars['STAFF_TOKEN'] = env['STAFF_TOKEN'] ?? secrets.staffToken;
  vars['ORDER_TOKEN_KEY'] = env['ORDER_TOKEN_KEY'] ?? secrets.orderTokenKey;

  return {
    vars,
    started,
    postgres,
    async stop() {
      if (postgres && started.includes('postgres')) {
        progress('postgres: stopping');
        await postgres.stop();
      }
    },
  };
}

/** Stops what `crs services --detach` left running. */
export async function stopLocalServices(env: Env, progress: (line: string) => void) {
  const secrets = await loadOrCreateSecrets(dataDir(env));
  const postgres = localPostgres(env, secrets);
  if (await postgres.isRunning()) {
    progress('postgres: stopping');
    await postgres.stop();
  }
  progress('stopped');
}

/** `export NAME='value'` lines a POSIX shell can eval. */
export function exportLines(vars: Record<string, string>): string {
  return Object.entries(vars)
    .map(([name, value]) => `export ${name}='${value.replaceAll("'", `'\\''`)}'`)
    .join('\n');
}
