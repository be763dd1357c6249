/**
 * The one place that reads process.env. Each component asks for the config it needs; the
 * result is validated once, frozen, and passed down explicitly. A missing or malformed variable
 * becomes a ConfigError whose one-line message names the variable (never its value: it may be
 * a secret).
 */
import type { LevelWithSilent } from 'pino';
import { PRODUCT_ID, PRODUCT_ID_RULE } from './identifiers.js';

export class ConfigError extends Error {
  readonly variable: string;
  constructor(variable: string, problem: string) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** Tokens and keys are compared as opaque strings; this is the least entropy we accept. */
const MIN_SECRET_LENGTH = 32;

function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

function required(env: Env, name: string, hint: string): string {
  const value = raw(env, name);
  if (value === undefined) throw new ConfigError(name, `is required (${hint})`);
  return value;
}

export function readInteger(env: Env, name: string, fallback: number, min: number, max: number) {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new ConfigError(name, `must be a whole number, got "${value}"`);
  const parsed = Number(value);
  if (parsed < min || parsed > max) {
    throw new ConfigError(name, `must be between ${min} and ${max}, got ${parsed}`);
  }
  return parsed;
}

function readPostgresUrl(env: Env, name: string, fallbackName?: string): string {
  const value = raw(env, name) ?? (fallbackName ? raw(env, fallbackName) : undefined);
  const shownName = raw(env, name) !== undefined || !fallbackName ? name : fallbackName;
  if (value === undefined) {
    throw new ConfigError(
      shownName,
      'is required (a postgres:// URL; `eval "$(npx crs services --detach)"` prints one)',
    );
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(shownName, 'is not a valid URL');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(shownName, `must start with postgres://, got ${url.protocol}//`);
  }
  return value;
}

function readSecret(env: Env, name: string, hint: string): string {
  const value = required(env, name, hint);
  if (value.length < MIN_SECRET_LENGTH || !/^[A-Za-z0-9_\-.~+/=]+$/.test(value)) {
    throw new ConfigError(
      name,
      `must be at least ${MIN_SECRET_LENGTH} characters of [A-Za-z0-9_-.~+/=] (e.g. \`openssl rand -base64 32\`)`,
    );
  }
  return value;
}

function readLogLevel(env: Env): LevelWithSilent {
  const value = raw(env, 'LOG_LEVEL') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(value)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  }
  return value as LevelWithSilent;
}

export type LogFormat = 'json' | 'pretty';

/**
 * LOG_FORMAT: json (lines for a log pipeline), pretty (for a person), or auto (the default):
 * pretty when the output is a terminal (npm start in a shell), JSON otherwise (Kubernetes, CI,
 * a file).
 */
export function readLogFormat(env: Env, isTerminal = Boolean(process.stdout.isTTY)): LogFormat {
  const value = raw(env, 'LOG_FORMAT') ?? 'auto';
  if (value === 'json' || value === 'pretty') return value;
  if (value === 'auto') return isTerminal ? 'pretty' : 'json';
  throw new ConfigError('LOG_FORMAT', 'must be json, pretty or auto');
}

function readSwitch(env: Env, name: string, fallback: boolean): boolean {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (value === 'on') return true;
  if (value === 'off') return false;
  throw new ConfigError(name, `must be "on" or "off", got "${value}"`);
}

/** Group commit defaults (api/orders/groupCommit.ts); the intake benchmark uses them too. */
export const ORDER_BATCH_DEFAULTS = { max: 100, concurrency: 2, queueMax: 10_000, lingerMs: 2 } as const;

export interface MigrateConfig {
  readonly databaseUrl: string;
  readonly logLevel: LevelWithSilent;
  readonly logFormat: LogFormat;
  /** The default product and the stock it gets when it is first created. */
  readonly defaultProductId: string;
  readonly defaultProductName: string;
  readonly stock: number;
  /** lock_timeout, statement_timeout and retries for every migration (migrations/runner.ts). */
  readonly live: {
    readonly lockTimeoutMs: number;
    readonly statementTimeoutMs: number;
    readonly lockRetries: number;
    readonly retryDelayMs: number;
  };
}

export function loadMigrateConfig(env: Env): MigrateConfig {
  const defaultProductId = raw(env, 'DEFAULT_PRODUCT_ID') ?? 'default';
  if (!PRODUCT_ID.test(defaultProductId)) {
    throw new ConfigError('DEFAULT_PRODUCT_ID', PRODUCT_ID_RULE);
  }
  const defaultProductName = raw(env, 'DEFAULT_PRODUCT_NAME') ?? 'Free reservation';
  if (defaultProductName.length > 120) {
    throw new ConfigError('DEFAULT_PRODUCT_NAME', 'must be at most 120 characters');
  }
  return Object.freeze({
    databaseUrl: readPostgresUrl(env, 'DATABASE_URL'),
    logLevel: readLogLevel(env),
    logFormat: readLogFormat(env),
    defaultProductId,
    defaultProductName,
    stock: readInteger(env, 'STOCK', 1000, 0, 1_000_000_000),
    live: Object.freeze({
      lockTimeoutMs: readInteger(env, 'MIGRATE_LOCK_TIMEOUT_MS', 5_000, 0, 600_000),
      statementTimeoutMs: readInteger(env, 'MIGRATE_STATEMENT_TIMEOUT_MS', 900_000, 0, 86_400_000),
      lockRetries: readInteger(env, 'MIGRATE_LOCK_RETRIES', 5, 0, 20),
      retryDelayMs: 1_000,
    }),
  });
}

/**
 * How every connection to Postgres, Redis and RabbitMQ notices a peer that is gone (a lost
 * node: no FIN, no RST) or stops answering (a hung server, a partition), so that nothing waits
 * forever: TCP keepalive on every socket, bounded connects and queries, AMQP heartbeats.
 * Applied by common/db.ts and common/connections.ts.
 */
export interface NetworkConfig {
  /** TCP keepalive: first probe after this much silence (then every second, ten times). */
  readonly keepAliveMs: number;
  /** Bound on opening any connection. */
  readonly connectTimeoutMs: number;
  /** Client-side bound on one Postgres query (server-side limits come on top). */
  readonly queryTimeoutMs: number;
  /** AMQP heartbeat: a broker silent for two of these is taken for gone. */
  readonly amqpHeartbeatSeconds: number;
}

export function readNetwork(env: Env): NetworkConfig {
  return Object.freeze({
    keepAliveMs: readInteger(env, 'NET_KEEPALIVE_MS', 5_000, 1_000, 600_000),
    connectTimeoutMs: readInteger(env, 'NET_CONNECT_TIMEOUT_MS', 5_000, 500, 120_000),
    queryTimeoutMs: readInteger(env, 'PG_QUERY_TIMEOUT_MS', 10_000, 1_000, 600_000),
    amqpHeartbeatSeconds: readInteger(env, 'AMQP_HEARTBEAT_S', 5, 1, 600),
  });
}

export interface ApiConfig {
  readonly port: number;
  readonly host: string;
  /**
   * A second port that answers only /healthz, /readyz and /metrics (API_PROBE_PORT; none when
   * unset): for the kubelet and Prometheus, on a port the Service behind the ingress does not
   * expose. PORT keeps answering them too.
   */
  readonly probePort: number | undefined;
  /** Connection of the least-privileged crs_api role. */
  readonly databaseUrl: string;
  readonly databasePoolSize: number;
  /** Group commit (api/orders/groupCommit.ts): most orders per crs.place_orders call. */
  readonly orderBatchMax: number;
  /** Group commit: crs.place_orders calls running at once (each holds a pool connection). */
  readonly orderBatchConcurrency: number;
  /** Group commit: orders waiting for a slot beyond which new ones get 503 at once. */
  readonly orderQueueMax: number;
  /** How long a free batch slot gathers orders while another batch runs. */
  readonly orderBatchLingerMs: number;
  readonly adminToken: string;
  readonly staffToken: string;
  /** HMAC key from which order access tokens are derived (see api/orders/accessToken.ts). */
  readonly orderTokenKey: string;
  readonly defaultProductId: string;
  readonly defaultCountry: string;
  /** RATE_LIMIT: off turns every limit below off (benchmarks, load tests). */
  readonly rateLimit: boolean;
  /** Orders one client address may place per minute, across all replicas (through Redis). */
  readonly orderRateLimitPerMinute: number;
  /** Orders one customer key (normalised phone) may place per minute, from any address. */
  readonly customerOrderRateLimitPerMinute: number;
  /** Staff/admin API requests per minute per (valid) token. */
  readonly staffRateLimitPerMinute: number;
  /** Failed staff/admin authentications per minute per client address; then 429, even for the right token. */
  readonly authFailureLimitPerMinute: number;
  /** Take the client address from X-Forwarded-For (behind an ingress or load balancer). */
  readonly trustProxy: boolean;
  readonly network: NetworkConfig;
  readonly logLevel: LevelWithSilent;
  readonly logFormat: LogFormat;
  /** Largest accepted request body, in bytes. */
  readonly bodyLimitBytes: number;
  /** How long a graceful stop waits for in-flight requests. */
  readonly shutdownGraceMs: number;
  /** Public base URL used in links; defaults to the request's own origin. */
  readonly publicUrl: string | undefined;
  /** The stock flag (Redis/Dragonfly); without it stock is read from Postgres. */
  readonly redisUrl: string | undefined;
  /** RabbitMQ, for voucher notifications; without it SSE only finds vouchers already stored. */
  readonly amqpUrl: string | undefined;
  /** Where the bucket's notifications arrive (AMQP_VOUCHER_EXCHANGE). */
  readonly voucherExchange: string;
  /** The vouchers bucket, to serve PDFs; without it voucher downloads answer 503. */
  readonly objectStore: ObjectStoreConfig | undefined;
  /** Streams one client address may hold open in this process (RATE_LIMIT on); beyond: 429. */
  readonly maxEventStreamsPerAddress: number;
  /** Streams one order's events may have open in this process (RATE_LIMIT on); beyond: 429. */
  readonly maxEventStreamsPerOrder: number;
  /** Server-Sent Event streams open at once in this process; beyond it: 503. */
  readonly maxEventStreams: number;
  /** Slow-client limits of the HTTP server (readHttpTimeouts below). */
  readonly http: HttpTimeouts;
}

export function loadApiConfig(env: Env): ApiConfig {
  const defaultCountry = raw(env, 'DEFAULT_COUNTRY') ?? 'FI';
  if (!/^[A-Z]{2}$/.test(defaultCountry)) {
    throw new ConfigError('DEFAULT_COUNTRY', 'must be an ISO 3166 alpha-2 code such as FI');
  }
  const publicUrl = raw(env, 'PUBLIC_URL');
  if (publicUrl !== undefined && !/^https?:\/\/[^\s]+[^/]$/.test(publicUrl)) {
    throw new ConfigError('PUBLIC_URL', 'must be an http(s) URL without a trailing slash');
  }
  const defaultProductId = raw(env, 'DEFAULT_PRODUCT_ID') ?? 'default';
  if (!PRODUCT_ID.test(defaultProductId)) {
    throw new ConfigError('DEFAULT_PRODUCT_ID', PRODUCT_ID_RULE);
  }
  const databasePoolSize = readInteger(env, 'API_DATABASE_POOL_SIZE', 20, 1, 500);
  // Leave at least one connection of the pool for everything that is not an order.
  const orderBatchConcurrency = readInteger(
    env,
    'ORDER_BATCH_CONCURRENCY',
    Math.min(ORDER_BATCH_DEFAULTS.concurrency, Math.max(1, databasePoolSize - 1)),
    1,
    500,
  );
  if (orderBatchConcurrency >= databasePoolSize && databasePoolSize > 1) {
    throw new ConfigError(
      'ORDER_BATCH_CONCURRENCY',
      `must be below API_DATABASE_POOL_SIZE (${databasePoolSize}), so other queries keep a connection`,
    );
  }
  return Object.freeze({
    port: readInteger(env, 'PORT', 3000, 0, 65535),
    host: raw(env, 'HOST') ?? '0.0.0.0',
    probePort:
      raw(env, 'API_PROBE_PORT') === undefined ? undefined : readInteger(env, 'API_PROBE_PORT', 0, 0, 65535),
    databaseUrl: readPostgresUrl(env, 'API_DATABASE_URL', 'DATABASE_URL'),
    databasePoolSize,
    orderBatchMax: readInteger(env, 'ORDER_BATCH_MAX', ORDER_BATCH_DEFAULTS.max, 1, 1000),
    orderBatchConcurrency,
    orderQueueMax: readInteger(env, 'ORDER_QUEUE_MAX', ORDER_BATCH_DEFAULTS.queueMax, 1, 1_000_000),
    orderBatchLingerMs: readInteger(env, 'ORDER_BATCH_LINGER_MS', ORDER_BATCH_DEFAULTS.lingerMs, 0, 100),
    adminToken: readSecret(env, 'ADMIN_TOKEN', 'bearer token for admin endpoints'),
    staffToken: readSecret(env, 'STAFF_TOKEN', 'bearer token for staff endpoints'),
    orderTokenKey: readSecret(env, 'ORDER_TOKEN_KEY', 'key that order access tokens derive from'),
    defaultProductId,
    defaultCountry,
    rateLimit: readSwitch(env, 'RATE_LIMIT', true),
    orderRateLimitPerMinute: readInteger(env, 'RATE_LIMIT_ORDERS_PER_MINUTE', 30, 1, 1_000_000),
    customerOrderRateLimitPerMinute: readInteger(
      env,
      'RATE_LIMIT_CUSTOMER_ORDERS_PER_MINUTE',
      5,
      1,
      1_000_000,
    ),
    staffRateLimitPerMinute: readInteger(env, 'RATE_LIMIT_STAFF_PER_MINUTE', 120, 1, 1_000_000),
    authFailureLimitPerMinute: readInteger(env, 'RATE_LIMIT_AUTH_FAILURES_PER_MINUTE', 10, 1, 10_000),
    trustProxy: readSwitch(env, 'TRUST_PROXY', false),
    network: readNetwork(env),
    logLevel: readLogLevel(env),
    logFormat: readLogFormat(env),
    bodyLimitBytes: readInteger(env, 'BODY_LIMIT_BYTES', 16 * 1024, 256, 1024 * 1024),
    shutdownGraceMs: readInteger(env, 'SHUTDOWN_GRACE_MS', 10_000, 0, 120_000),
    publicUrl,
    redisUrl:
      raw(env, 'REDIS_URL') === undefined
        ? undefined
        : readUrl(env, 'REDIS_URL', ['redis:', 'rediss:'], 'redis://host:port'),
    amqpUrl:
      raw(env, 'AMQP_URL') === undefined
        ? undefined
        : readUrl(env, 'AMQP_URL', ['amqp:', 'amqps:'], 'amqp://...'),
    voucherExchange: readExchangeName(env, 'AMQP_VOUCHER_EXCHANGE', 'crs.vouchers'),
    objectStore: raw(env, 'S3_ENDPOINT') === undefined ? undefined : loadObjectStoreConfig(env),
    maxEventStreams: readInteger(env, 'MAX_EVENT_STREAMS', 2000, 1, 100_000),
    maxEventStreamsPerAddress: readInteger(env, 'MAX_EVENT_STREAMS_PER_ADDRESS', 32, 1, 100_000),
    maxEventStreamsPerOrder: readInteger(env, 'MAX_EVENT_STREAMS_PER_ORDER', 4, 1, 1_000),
    http: readHttpTimeouts(env),
  });
}

// --- HTTP server timeouts -------------------------------------------------------------------

export interface HttpTimeouts {
  /** The whole request (headers and body) must arrive within this; else 408 and the socket closes. */
  readonly requestTimeoutMs: number;
  /** The headers must arrive within this (slowloris sending one header byte at a time). */
  readonly headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  readonly keepAliveTimeoutMs: number;
}

/**
 * A slow client (slowloris: headers or body one byte at a time) must cost a socket for a
 * bounded time, never a worker forever. Node checks these limits periodically, so api/server.ts
 * derives its checking interval from them.
 */
export function readHttpTimeouts(env: Env): HttpTimeouts {
  const requestTimeoutMs = readInteger(env, 'HTTP_REQUEST_TIMEOUT_MS', 30_000, 100, 600_000);
  const headersTimeoutMs = readInteger(env, 'HTTP_HEADERS_TIMEOUT_MS', 10_000, 100, 600_000);
  if (headersTimeoutMs > requestTimeoutMs) {
    // Node refuses it too: the headers are part of the request.
    throw new ConfigError(
      'HTTP_HEADERS_TIMEOUT_MS',
      `must not exceed HTTP_REQUEST_TIMEOUT_MS (${requestTimeoutMs})`,
    );
  }
  return Object.freeze({
    requestTimeoutMs,
    headersTimeoutMs,
    keepAliveTimeoutMs: readInteger(env, 'HTTP_KEEP_ALIVE_TIMEOUT_MS', 5_000, 100, 600_000),
  });
}

function readUrl(env: Env, name: string, protocols: string[], hint: string): string {
  const value = required(env, name, hint);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(name, 'is not a valid URL');
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(name, `must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  }
  return value;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

function readExchangeName(env: Env, name: string, fallback: string): string {
  const value = raw(env, name) ?? fallback;
  if (!/^[A-Za-z0-9._:-]{1,127}$/.test(value)) {
    throw new ConfigError(name, 'must be 1 to 127 characters of A-Z a-z 0-9 . _ : -');
  }
  return value;
}

function readIdentifier(env: Env, name: string, fallback: string): string {
  const value = raw(env, name) ?? fallback;
  if (!IDENTIFIER.test(value)) {
    throw new ConfigError(name, 'must be a lowercase SQL identifier ([a-z_][a-z0-9_]*, at most 63)');
  }
  return value;
}

export interface CdcConfig {
  /** Connection of the crs_cdc role (REPLICATION, SELECT on what it reads). */
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly amqpUrl: string;
  readonly slotName: string;
  readonly publicationName: string;
  /** Health, readiness and metrics listen here. */
  readonly port: number;
  readonly host: string;
  /** Most transactions handled in one batch. */
  readonly batchMax: number;
  /** Decoded transactions held in memory before the stream is paused. */
  readonly queueMax: number;
  /** A stream the server has said nothing on for this long is given up (a partition). */
  readonly streamTimeoutMs: number;
  /** A received transaction not applied after this long: reported and the stream restarted. */
  readonly stallMs: number;
  /** How often a standby asks for the slot (START_REPLICATION) while another streams it. */
  readonly standbyRetryMs: number;
  /** Between comparisons of every stock flag with the tables (cdc/stockDriftGuard.ts); 0: never. */
  readonly stockCheckMs: number;
  /** The change feed: its CloudEvents `source`, and the stream that keeps it for replay. */
  readonly feed: ChangeFeedConfig;
  readonly network: NetworkConfig;
  readonly logLevel: LevelWithSilent;
  readonly logFormat: LogFormat;
}

export interface ChangeStreamConfig {
  /** The RabbitMQ stream bound to the feed's exchange; undefined when CHANGE_STREAM=off. */
  readonly name: string | undefined;
  /** Retention by age, RabbitMQ's x-max-age (e.g. 7D, 12h). */
  readonly maxAge: string;
  /** Retention by size, x-max-length-bytes: the stream's total on disk. */
  readonly maxBytes: number;
}

export interface ChangeFeedConfig {
  /** CloudEvents `source`: which deployment and database the events come from. */
  readonly source: string;
  readonly stream: ChangeStreamConfig;
}

/** The change stream's name and retention; also what a stream reader (crs cdc tail) reads. */
export function readChangeStream(env: Env): ChangeStreamConfig {
  const name = raw(env, 'CHANGE_STREAM') ?? 'crs.changes.stream';
  if (name !== 'off' && !/^[A-Za-z0-9_.:-]{1,200}$/.test(name)) {
    throw new ConfigError('CHANGE_STREAM', 'must be a queue name (letters, digits, _ . : -) or off');
  }
  const maxAge = raw(env, 'CHANGE_STREAM_MAX_AGE') ?? '7D';
  if (!/^[1-9][0-9]{0,8}[YMDhms]$/.test(maxAge)) {
    throw new ConfigError(
      'CHANGE_STREAM_MAX_AGE',
      'must be a number and a unit of Y, M, D, h, m or s (e.g. 7D)',
    );
  }
  return {
    name: name === 'off' ? undefined : name,
    maxAge,
    maxBytes: readInteger(env, 'CHANGE_STREAM_MAX_BYTES', 1024 ** 3, 1024 ** 2, 2 ** 50),
  };
}

/**
 * CHANGE_FEED_SOURCE, or else the database the CDC reads, as crs://host:port/database (no
 * credentials): stable for a deployment, different between two.
 */
function readFeedSource(env: Env, databaseUrl: string): string {
  const given = raw(env, 'CHANGE_FEED_SOURCE');
  if (given !== undefined) {
    if (!/^[A-Za-z][A-Za-z0-9+.-]*:\S+$|^\/\S*$/.test(given)) {
      throw new ConfigError(
        'CHANGE_FEED_SOURCE',
        'must be a URI reference, e.g. https://reserve.example.com/prod',
      );
    }
    return given;
  }
  const url = new URL(databaseUrl);
  return `crs://${url.hostname}:${url.port || '5432'}${url.pathname}`;
}

export function loadCdcConfig(env: Env): CdcConfig {
  const databaseUrl = readPostgresUrl(env, 'CDC_DATABASE_URL', 'DATABASE_URL');
  return Object.freeze({
    databaseUrl,
    redisUrl: readUrl(env, 'REDIS_URL', ['redis:', 'rediss:'], 'redis://host:port of Redis or Dragonfly'),
    amqpUrl: readUrl(env, 'AMQP_URL', ['amqp:', 'amqps:'], 'amqp://user:password@host:port of RabbitMQ'),
    slotName: readIdentifier(env, 'CDC_SLOT', 'crs_cdc'),
    publicationName: readIdentifier(env, 'CDC_PUBLICATION', 'crs_changes'),
    port: readInteger(env, 'CDC_PORT', 3001, 0, 65535),
    host: raw(env, 'HOST') ?? '0.0.0.0',
    batchMax: readInteger(env, 'CDC_BATCH_MAX', 500, 1, 10_000),
    queueMax: readInteger(env, 'CDC_QUEUE_MAX', 20_000, 100, 1_000_000),
    standbyRetryMs: readInteger(env, 'CDC_STANDBY_RETRY_MS', 1_000, 100, 60_000),
    streamTimeoutMs: readInteger(env, 'CDC_STREAM_TIMEOUT_MS', 15_000, 2_000, 600_000),
    stallMs: readInteger(env, 'CDC_STALL_MS', 30_000, 1_000, 3_600_000),
    stockCheckMs: readInteger(env, 'CDC_STOCK_CHECK_MS', 10_000, 0, 86_400_000),
    feed: { source: readFeedSource(env, databaseUrl), stream: readChangeStream(env) },
    network: readNetwork(env),
    logLevel: readLogLevel(env),
    logFormat: readLogFormat(env),
  });
}

export interface ObjectStoreConfig {
  /** http(s)://host:port of MinIO (or the local S3 store). */
  readonly endpoint: string;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly bucket: string;
  readonly region: string;
}

export function loadObjectStoreConfig(env: Env): ObjectStoreConfig {
  const endpoint = readUrl(env, 'S3_ENDPOINT', ['http:', 'https:'], 'http(s)://host:port of MinIO');
  const bucket = raw(env, 'S3_BUCKET') ?? 'vouchers';
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new ConfigError('S3_BUCKET', 'must be a valid bucket name (3-63 of a-z 0-9 . -)');
  }
  return Object.freeze({
    endpoint,
    accessKey: required(env, 'S3_ACCESS_KEY', 'access key of the object store'),
    secretKey: required(env, 'S3_SECRET_KEY', 'secret key of the object store'),
    bucket,
    region: raw(env, 'S3_REGION') ?? 'us-east-1',
  });
}

export interface RendererConfig {
  readonly databaseUrl: string;
  readonly objectStore: ObjectStoreConfig;
  /** Jobs rendered at once by this process. */
  readonly concurrency: number;
  /** Object-created notifications go to this MinIO notification target (bucket setup). */
  readonly notifyArn: string;
  /** Vouchers expire from the bucket after this many days (lifecycle rule). */
  readonly voucherExpiryDays: number;
  /**
   * Names and phone numbers are removed this many days after a voucher was redeemed or
   * expired (the daily purge_personal_data task).
   */
  readonly piiRetentionDays: number;
  /**
   * A worker pool's lease (crs.renderer_leases): renewed every quarter of it; jobs of a pool
   * whose lease lapsed are unlocked for other renderers.
   */
  readonly leaseMs: number;
  readonly port: number;
  readonly host: string;
  readonly network: NetworkConfig;
  readonly logLevel: LevelWithSilent;
  readonly logFormat: LogFormat;
}

export function loadRendererConfig(env: Env): RendererConfig {
  const notifyArn = raw(env, 'S3_NOTIFY_ARN') ?? 'arn:minio:sqs::crs:amqp';
  if (!/^arn:minio:sqs:[^:]*:[^:]+:amqp$/.test(notifyArn)) {
    throw new ConfigError('S3_NOTIFY_ARN', 'must look like arn:minio:sqs::<target id>:amqp');
  }
  return Object.freeze({
    databaseUrl: readPostgresUrl(env, 'RENDERER_DATABASE_URL', 'DATABASE_URL'),
    objectStore: loadObjectStoreConfig(env),
    concurrency: readInteger(env, 'RENDERER_CONCURRENCY', 4, 1, 64),
    notifyArn,
    voucherExpiryDays: readInteger(env, 'VOUCHER_EXPIRY_DAYS', 90, 1, 3650),
    piiRetentionDays: readInteger(env, 'PII_RETENTION_DAYS', 30, 0, 3650),
    leaseMs: readInteger(env, 'RENDERER_LEASE_MS', 20_000, 2_000, 600_000),
    port: readInteger(env, 'RENDERER_PORT', 3002, 0, 65535),
    host: raw(env, 'HOST') ?? '0.0.0.0',
    network: readNetwork(env),
    logLevel: readLogLevel(env),
    logFormat: readLogFormat(env),
  });
}
