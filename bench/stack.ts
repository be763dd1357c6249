/**
 * The stack a benchmark runs on: the local backing services with state of their own
 * (.data/bench, ports of their own, so neither `npm start` nor the tests are touched), a fresh
 * database migrated exactly as `crs migrate` does, and the original design's procedure in the
 * schema bench_original of that database only (bench/db/original.sql; never in production).
 * Components run as processes of their own; `component()` starts one.
 */
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { spawnComponent, waitUntilReady, type Child } from '../common/componentProcess.js';
import { runMigrations } from '../migrations/migrateDatabase.js';
import { loadMigrateConfig } from '../common/config.js';
import type { Logger } from '../common/log.js';
import { dataDir, packageRoot } from '../common/paths.js';
import { bootstrapDatabase } from '../devstack/bootstrap.js';
import { LOCAL_DATABASE, startLocalServices } from '../devstack/stack.js';
import { loadOrCreateSecrets } from '../devstack/secrets.js';
import { siblingEntry } from './entry.js';

type Env = Record<string, string | undefined>;

export interface StackPorts {
  pg: number;
  redis: number;
  amqp: number;
  s3: number;
  api: number;
  cdc: number;
  renderer: number;
}

/**
 * Ports of the bench stack: none of npm start's (54329, 3000-3002, ...) or the tests', and
 * below the kernel's ephemeral range (32768-60999): a port in it can be, at the moment the
 * stack starts, the local port of some client connection (a drill once failed to start so).
 */
export const BENCH_PORTS: StackPorts = {
  pg: 30349,
  redis: 30389,
  amqp: 30740,
  s3: 30910,
  api: 3910,
  cdc: 3911,
  renderer: 3912,
};

/** Where a stack keeps its state (a folder of the data directory) and the ports it uses. */
export interface StackLayout {
  /** Folder under the data directory (.data/<folder>), unless overridden by dataDirVar. */
  folder: string;
  /** An environment variable that moves the state elsewhere (CRS_BENCH_DATA_DIR). */
  dataDirVar: string;
  ports: StackPorts;
}

export const BENCH_LAYOUT: StackLayout = {
  folder: 'bench',
  dataDirVar: 'CRS_BENCH_DATA_DIR',
  ports: BENCH_PORTS,
};

export interface BenchStack {
  /** What the components need (connections, keys), as `crs services` prints it. */
  vars: Record<string, string>;
  superuserUrl: string;
  /** Pools for arranging and inspecting: the owner and the superuser. */
  owner: pg.Pool;
  superuser: pg.Pool;
  /** The environment the services were started with (CRS_DATA_DIR and the ports). */
  env: Env;
  /**
   * Starts a component as its own process and waits until it is ready, on the layout's port
   * for it unless extraEnv names another (PORT, CDC_PORT, RENDERER_PORT).
   */
  component(name: 'api' | 'cdc' | 'renderer', extraEnv?: Env, output?: number): Promise<Child>;
  /** The API with another order decision (bench/benchApi.ts), ready; `nodeArgs` for Node itself (a profiler). */
  benchApi(decide: 'batched' | 'original', extraEnv?: Env, nodeArgs?: string[]): Promise<Child>;
  stop(): Promise<void>;
}

export async function startBenchStack(
  env: Env,
  log: Logger,
  layout: StackLayout = BENCH_LAYOUT,
): Promise<BenchStack> {
  const { ports } = layout;
  const stackEnv: Env = {
    ...env,
    CRS_DATA_DIR: env[layout.dataDirVar] ?? join(dataDir(env), layout.folder),
    CRS_PG_PORT: String(ports.pg),
    CRS_REDIS_PORT: String(ports.redis),
    CRS_AMQP_PORT: String(ports.amqp),
    CRS_S3_PORT: String(ports.s3),
  };
  // The bench builds its own services; a DATABASE_URL etc. from the shell must not redirect it.
  const redirects = [
    ...['DATABASE_URL', 'API_DATABASE_URL', 'CDC_DATABASE_URL', 'RENDERER_DATABASE_URL'],
    ...['REDIS_URL', 'AMQP_URL', 'S3_ENDPOINT', 'S3_ACCESS_KEY', 'S3_SECRET_KEY', 'S3_BUCKET'],
  ];
  for (const name of redirects) delete stackEnv[name];
  // Fresh buckets too, as the database is fresh: the local S3 store keeps every object on
  // disk, and runs left 80,000 vouchers (1.9 GB) behind, for orders the new database never
  // had. The renderer sets the bucket up again when it starts.
  const s3Dir = join(stackEnv['CRS_DATA_DIR'] as string, 's3');
  const buckets = await readdir(s3Dir, { withFileTypes: true }).catch(() => []);
  for (const entry of buckets.filter((e) => e.isDirectory())) {
    await rm(join(s3Dir, entry.name), { recursive: true, force: true });
  }
  const services = await startLocalServices(stackEnv, (line) => log.info(`bench stack: ${line}`));
  const children: Child[] = [];
  try {
    const superuserUrl = services.postgres?.superuserUrl;
    if (!superuserUrl) throw new Error('the bench stack has no Postgres of its own');
    const secrets = await loadOrCreateSecrets(stackEnv['CRS_DATA_DIR'] as string);

    // A fresh database every run: figures must not depend on what an earlier run left.
    const admin = new pg.Client({ connectionString: superuserUrl });
    await admin.connect();
    await admin.query(
      `select pg_drop_replication_slot(slot_name) from pg_replication_slots where database = $1`,
      [LOCAL_DATABASE],
    );
    await admin.query(`drop database if exists ${LOCAL_DATABASE} with (force)`);
    await admin.end();
    await bootstrapDatabase(superuserUrl, LOCAL_DATABASE, {
      owner: secrets.ownerPassword,
      api: secrets.apiPassword,
      cdc: secrets.cdcPassword,
      renderer: secrets.rendererPassword,
    });
    const vars = services.vars;
    await runMigrations(loadMigrateConfig({ DATABASE_URL: vars['DATABASE_URL'], LOG_LEVEL: 'warn' }), log);

    const owner = new pg.Pool({ connectionString: vars['DATABASE_URL'], max: 4 });
    const superuser = new pg.Pool({ connectionString: superuserUrl, max: 2 });
    await owner.query(await readFile(join(packageRoot, 'bench', 'db', 'original.sql'), 'utf8'));

    const componentEnv = (extra: Env): Env => ({
      ...stackEnv,
      HOST: '127.0.0.1',
      PORT: String(ports.api),
      CDC_PORT: String(ports.cdc),
      RENDERER_PORT: String(ports.renderer),
      RATE_LIMIT: 'off',
      LOG_LEVEL: 'warn',
      ...extra,
    });
    const started = async (child: Child, port: string | undefined) => {
      children.push(child);
      await waitUntilReady(`http://127.0.0.1:${port}/readyz`, 60_000, child);
      return child;
    };
    const portVar = { api: 'PORT', cdc: 'CDC_PORT', renderer: 'RENDERER_PORT' } as const;

    return {
      vars,
      superuserUrl,
      owner,
      superuser,
      env: stackEnv,
      component: (name, extra = {}, output) => {
        // Each gets only its own connections and keys, as in production.
        const childEnv: Env = { ...services.componentEnv(name, componentEnv({})), ...extra };
        return started(spawnComponent(name, childEnv, undefined, output), childEnv[portVar[name]]);
      },
      benchApi: (decide, extra = {}, nodeArgs = []) => {
        const sibling = siblingEntry(import.meta.url, 'benchApi');
        const entry = { ...sibling, execArgv: [...sibling.execArgv, ...nodeArgs] };
        // The original design's tables belong to the owner (bench/db/original.sql): this
        // bench-only API gets the owner's URL too.
        const childEnv: Env = {
          ...services.componentEnv('api', componentEnv({})),
          DATABASE_URL: vars['DATABASE_URL'],
          ...extra,
          BENCH_DECIDE: decide,
        };
        return started(spawnComponent('bench-api', childEnv, entry), childEnv['PORT']);
      },
      async stop() {
        await Promise.all(children.map((child) => child.stop(10_000)));
        await owner.end();
        await superuser.end();
        await services.stop();
      },
    };
  } catch (err) {
    await Promise.all(children.map((child) => child.stop(10_000)));
    await services.stop();
    throw err;
  }
}
