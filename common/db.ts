/**
 * Postgres access shared by every component: pool factory, scoped clients, and the one table
 * that says which failures mean "the database cannot decide now" (retry later, nothing was
 * written) rather than a bug.
 */
import pg from 'pg';
import type { NetworkConfig } from './config.js';
import type { Logger } from './log.js';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;

// bigint (int8) and numeric arrive as strings by default; counts here fit in a JS number.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export interface PoolOptions {
  connectionString: string;
  applicationName: string;
  max?: number;
  /** Keepalive and bounds (common/config.ts, NetworkConfig); the defaults are its defaults. */
  network?: Partial<NetworkConfig>;
}

/** What every Postgres connection of ours is opened with (pools, the replication stream). */
export function pgSocketOptions(network: Partial<NetworkConfig> = {}) {
  return {
    // A peer gone without FIN or RST (a lost node) is noticed within seconds, not hours.
    keepAlive: true,
    keepAliveInitialDelayMillis: network.keepAliveMs ?? 5_000,
    connectionTimeoutMillis: network.connectTimeoutMs ?? 5_000,
  };
}

export function makePool(options: PoolOptions, log: Logger): Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    application_name: options.applicationName,
    max: options.max ?? 10,
    ...pgSocketOptions(options.network),
    // Client-side bound on any one query, so a dead network never hangs a request.
    query_timeout: options.network?.queryTimeoutMs ?? 10_000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client that loses its connection emits here; without a listener the process dies.
  pool.on('error', (err) => log.warn({ err }, 'idle postgres client failed'));
  // The same for a client that is checked out: its query fails and the caller handles that.
  pool.on('connect', (client) => client.on('error', (err) => log.debug({ err }, 'postgres client failed')));
  return pool;
}

/** Runs `fn` with a client from the pool and releases it even when `fn` throws. */
export async function withPgClient<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>) {
  const client = await pool.connect();
  let failure: unknown;
  try {
    return await fn(client);
  } catch (err) {
    failure = err;
    throw err;
  } finally {
    // A client whose connection broke must not go back to the pool.
    client.release(isConnectionFailure(failure) ? (failure as Error) : undefined);
  }
}

/** Runs `fn` in a transaction: commit on success, rollback on any failure. */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>) {
  return withPgClient(pool, async (client) => {
    await client.query('begin');
    try {
      const result = await fn(client);
      await client.query('commit');
      return result;
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      throw err;
    }
  });
}

/**
 * SQLSTATEs after which the same call may succeed later and nothing was committed:
 * lock and statement timeouts, serialization and deadlock aborts, a server that is starting,
 * stopping or out of connections.
 */
const RETRYABLE_SQLSTATES = new Map<string, string>([
  ['40001', 'serialization_failure'],
  ['40P01', 'deadlock_detected'],
  ['55P03', 'lock_not_available'],
  ['57014', 'query_canceled'],
  ['57P01', 'admin_shutdown'],
  ['57P02', 'crash_shutdown'],
  ['57P03', 'cannot_connect_now'],
  ['53300', 'too_many_connections'],
  ['53400', 'configuration_limit_exceeded'],
]);

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
]);

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** The connection itself is gone or never came up (as opposed to a query failing on it). */
export function isConnectionFailure(err: unknown): boolean {
  if (err === undefined || err === null) return false;
  const code = errorCode(err);
  if (code !== undefined && (CONNECTION_ERROR_CODES.has(code) || code.startsWith('08'))) {
    return true;
  }
  const message = err instanceof Error ? err.message : '';
  return (
    message.includes('Connection terminated') ||
    message.includes('timeout exceeded when trying to connect') ||
    message.includes('Query read timeout') ||
    message.includes('Client has encountered a connection error')
  );
}

/** Whether a failure means "try again later" rather than a bug or a refusal. */
export function isRetryable(err: unknown): boolean {
  const code = errorCode(err);
  return (code !== undefined && RETRYABLE_SQLSTATES.has(code)) || isConnectionFailure(err);
}
