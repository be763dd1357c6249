/**
 * Rate limits that hold across API replicas: every replica asks one Redis (rateLimit.lua, a
 * GCRA: `limit` requests at once, then refilled at `limit` per period, one key per limited
 * thing, expiring by itself). Written here rather than taken from rate-limiter-flexible: its
 * Redis limiter counts in fixed windows (a client gets twice the limit across a window's
 * edge), and what we need besides the script is a deadline and a fallback, which are a few
 * lines either way.
 *
 * Redis gets a short deadline. When it is down or slow, the same algorithm runs in this
 * process instead (so each replica limits on its own), Redis is left alone for a second at a
 * time so requests do not each pay for the deadline, the outage is logged once, and every
 * local decision is counted (crs_rate_limit_local_decisions_total). A limit never fails
 * closed: losing Redis must never stop orders.
 *
 * Keys in Redis hold no personal data and no secrets: a customer's phone number and a
 * presented token are replaced by a keyed hash (HMAC with ORDER_TOKEN_KEY) before they are
 * used as keys. Client addresses are kept as they are (they are what is limited, and expire).
 */
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { Context, Middleware } from 'koa';
import type { ApiConfig } from '../common/config.js';
import { AppError } from '../common/errors.js';
import type { Logger } from '../common/log.js';
import { packageRoot } from '../common/paths.js';
import type { ApiMetrics } from './metrics.js';
import { withDeadline } from '../common/deadline.js';

const SCRIPT = readFileSync(join(packageRoot, 'http', 'rateLimit.lua'), 'utf8');
const SCRIPT_SHA = createHash('sha1').update(SCRIPT).digest('hex');

/** How long a decision waits for Redis before this process decides alone. */
const REDIS_DEADLINE_MS = 100;
/** After Redis failed, how long it is left alone before the next try (a small breaker). */
const REDIS_PAUSE_MS = 1_000;
/** Keys the in-process limiter holds at most; beyond it the least recently used go first. */
const LOCAL_MAX_KEYS = 100_000;
const LOCAL_SWEEP_MS = 10_000;

export interface RateRule {
  /** Names the limit in Redis keys (crs:rl:<name>:<key>), metrics and logs. */
  readonly name: string;
  /** Requests allowed at once, and per period. */
  readonly limit: number;
  readonly periodMs: number;
}

export interface RateDecision {
  allowed: boolean;
  limit: number;
  /** Requests still allowed right after this one. */
  remaining: number;
  /** When a refused request may come again (0 when allowed). */
  retryAfterMs: number;
  /** Until the full allowance is back. */
  resetMs: number;
}

export interface RateLimiter {
  /** Counts one request for key under rule; says whether it is allowed. */
  consume(rule: RateRule, key: string): Promise<RateDecision>;
  /** Whether one more request would be allowed, counting nothing. */
  peek(rule: RateRule, key: string): Promise<RateDecision>;
}

/** One request's share of the period, in whole microseconds (the script's unit). */
const intervalUs = (rule: RateRule) => Math.ceil((rule.periodMs * 1000) / rule.limit);

/** The same GCRA as rateLimit.lua, in this process: the fallback, and the limiter without Redis. */
export function makeLocalRateLimiter(options: { now?: () => number; maxKeys?: number } = {}): RateLimiter {
  const now = options.now ?? Date.now;
  const maxKeys = options.maxKeys ?? LOCAL_MAX_KEYS;
  const arrivals = new Map<string, number>();
  let nextSweep = 0;

  function decide(rule: RateRule, key: string, count: boolean): RateDecision {
    const at = now() * 1000;
    if (at >= nextSweep) {
      // A key whose arrival time has passed is the same as no key.
      for (const [id, tat] of arrivals) if (tat <= at) arrivals.delete(id);
      nextSweep = at + LOCAL_SWEEP_MS * 1000;
    }
    const id = `${rule.name}:${key}`;
    const interval = intervalUs(rule);
    const tat = Math.max(arrivals.get(id) ?? at, at);
    const newTat = tat + interval;
    const allowAt = newTat - interval * rule.limit;
    if (at < allowAt) {
      return {
        allowed: false,
        limit: rule.limit,
        remaining: 0,
        retryAfterMs: (allowAt - at) / 1000,
        resetMs: (tat - at) / 1000,
      };
    }
    if (count) {
      arrivals.delete(id);
      if (arrivals.size >= maxKeys) {
        const oldest = arrivals.keys().next().value;
        if (oldest !== undefined) arrivals.delete(oldest);
      }
      arrivals.set(id, newTat);
    }
    return {
      allowed: true,
      limit: rule.limit,
      remaining: Math.floor((at - allowAt) / interval),
      retryAfterMs: 0,
      resetMs: (newTat - at) / 1000,
    };
  }

  return {
    consume: async (rule, key) => decide(rule, key, true),
    peek: async (rule, key) => decide(rule, key, false),
  };
}

async function runScript(redis: Redis, rule: RateRule, key: string, count: boolean): Promise<RateDecision> {
  const args = [`crs:rl:${rule.name}:${key}`, rule.limit, intervalUs(rule), count ? '1' : '0'] as const;
  let reply: unknown;
  try {
    reply = await redis.evalsha(SCRIPT_SHA, 1, ...args);
  } catch (err) {
    // First use on this server (or after a restart or SCRIPT FLUSH): send the script itself.
    if (!(err instanceof Error && err.message.startsWith('NOSCRIPT'))) throw err;
    reply = await redis.eval(SCRIPT, 1, ...args);
  }
  if (!Array.isArray(reply) || reply.length !== 4 || !reply.every((n) => typeof n === 'number')) {
    throw new Error(`unexpected rate limit reply ${JSON.stringify(reply)}`);
  }
  const [allowed, remaining, retryAfterUs, resetUs] = reply as number[];
  return {
    allowed: allowed === 1,
    limit: rule.limit,
    remaining: remaining ?? 0,
    retryAfterMs: (retryAfterUs ?? 0) / 1000,
    resetMs: (resetUs ?? 0) / 1000,
  };
}

/** Limits through Redis, or in this process while Redis fails (and when there is none). */
export function makeRateLimiter(deps: {
  redis: Redis | undefined;
  log: Logger;
  metrics: Pick<ApiMetrics, 'rateLimitLocalDecisions'>;
  deadlineMs?: number;
  now?: () => number;
}): RateLimiter {
  const now = deps.now ?? Date.now;
  const deadlineMs = deps.deadlineMs ?? REDIS_DEADLINE_MS;
  const local = makeLocalRateLimiter({ now });
  let pausedUntil = 0;
  let outage = false;

  async function decide(rule: RateRule, key: string, count: boolean): Promise<RateDecision> {
    const { redis } = deps;
    if (!redis) return count ? local.consume(rule, key) : local.peek(rule, key);
    if (now() >= pausedUntil) {
      try {
        const decision = await withDeadline(
          runScript(redis, rule, key, count),
          deadlineMs,
          `Redis did not answer within ${deadlineMs} ms`,
        );
        if (outage) {
          outage = false;
          deps.log.info('rate limits: Redis answers again; limits are shared across replicas again');
        }
        return decision;
      } catch (err) {
        pausedUntil = now() + REDIS_PAUSE_MS;
        if (!outage) {
          outage = true;
          deps.log.warn(
            { err },
            'rate limits: Redis unreachable or slow; limiting in this process until it answers',
          );
        }
      }
    }
    deps.metrics.rateLimitLocalDecisions.inc({ limit: rule.name });
    return count ? local.consume(rule, key) : local.peek(rule, key);
  }

  return {
    consume: (rule, key) => decide(rule, key, true),
    peek: (rule, key) => decide(rule, key, false),
  };
}

/** The 429 of the contract, with Retry-After and the IETF draft's RateLimit-* headers. */
export function rateLimited(decision: RateDecision): AppError {
  return new AppError('rate_limited', 'Too many requests; retry after Retry-After seconds.', {
    status: 429,
    headers: {
      'Retry-After': String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))),
      ...rateLimitHeaders(decision),
    },
  });
}

export function rateLimitHeaders(decision: RateDecision): Record<string, string> {
  return {
    'RateLimit-Limit': String(decision.limit),
    'RateLimit-Remaining': String(Math.max(0, decision.remaining)),
    'RateLimit-Reset': String(Math.max(0, Math.ceil(decision.resetMs / 1000))),
  };
}

/** One configured limit, with its rule and how its keys are made. */
export interface Limit {
  readonly rule: RateRule | undefined;
  /** Counts one request; throws 429 rate_limited when it is over the limit. Undefined when off. */
  take(key: string): Promise<RateDecision | undefined>;
  /** Throws 429 rate_limited when one more would be over the limit, counting nothing. */
  check(key: string): Promise<void>;
  /** Counts one (a failure, say) and refuses nothing: check refuses the next. */
  count(key: string): Promise<void>;
}

/** Every limit of the API (config: RATE_LIMIT and RATE_LIMIT_*). */
export interface RateLimits {
  /** POST /api/orders per client address. */
  ordersPerAddress: Limit;
  /** Orders per customer key (the normalised phone), whatever address they come from. */
  ordersPerCustomer: Limit;
  /** Staff and admin API requests per presented (valid) token. */
  staffPerToken: Limit;
  /** Failed staff/admin authentication (bearer API and web sign-in) per client address. */
  authFailures: Limit;
}

const OFF: Limit = {
  rule: undefined,
  take: async () => undefined,
  check: async () => undefined,
  count: async () => undefined,
};

export type RateLimitConfig = Pick<
  ApiConfig,
  | 'rateLimit'
  | 'orderRateLimitPerMinute'
  | 'customerOrderRateLimitPerMinute'
  | 'staffRateLimitPerMinute'
  | 'authFailureLimitPerMinute'
  | 'orderTokenKey'
>;

export function makeRateLimits(
  config: RateLimitConfig,
  deps: { limiter: RateLimiter; metrics: Pick<ApiMetrics, 'rateLimitRefusals'> },
): RateLimits {
  if (!config.rateLimit) {
    return { ordersPerAddress: OFF, ordersPerCustomer: OFF, staffPerToken: OFF, authFailures: OFF };
  }
  const { limiter, metrics } = deps;
  /** Keys that would be personal data or secrets become a keyed hash of them. */
  const hashed = (name: string) => (value: string) =>
    createHmac('sha256', config.orderTokenKey)
      .update(`crs-rate-limit\0${name}\0${value}`)
      .digest('base64url')
      .slice(0, 22);
  const asIs = (value: string) => value;

  function limit(name: string, perMinute: number, keyOf: (value: string) => string): Limit {
    const rule: RateRule = { name, limit: perMinute, periodMs: 60_000 };
    const refuse = (decision: RateDecision) => {
      metrics.rateLimitRefusals.inc({ limit: name });
      return rateLimited(decision);
    };
    return {
      rule,
      async take(key) {
        const decision = await limiter.consume(rule, keyOf(key));
        if (!decision.allowed) throw refuse(decision);
        return decision;
      },
      async check(key) {
        const decision = await limiter.peek(rule, keyOf(key));
        if (!decision.allowed) throw refuse(decision);
      },
      async count(key) {
        await limiter.consume(rule, keyOf(key));
      },
    };
  }

  return {
    ordersPerAddress: limit('orders-per-address', config.orderRateLimitPerMinute, asIs),
    ordersPerCustomer: limit(
      'orders-per-customer',
      config.customerOrderRateLimitPerMinute,
      hashed('orders-per-customer'),
    ),
    staffPerToken: limit('staff-per-token', config.staffRateLimitPerMinute, hashed('staff-per-token')),
    authFailures: limit('auth-failures', config.authFailureLimitPerMinute, asIs),
  };
}

/** Middleware: one request counted against `limit` for the key of the request. */
export function limitRequests(limit: Limit, keyOf: (ctx: Context) => string): Middleware {
  if (!limit.rule) return (_ctx, next) => next();
  return async (ctx, next) => {
    const decision = await limit.take(keyOf(ctx));
    if (decision) ctx.set(rateLimitHeaders(decision));
    await next();
  };
}
