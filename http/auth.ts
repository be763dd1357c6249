/**
 * Bearer-token checks. Secrets are compared through SHA-256 digests with timingSafeEqual, so
 * neither the content nor the length of a token leaks through response times.
 *
 * Staff and admin credentials are guarded against guessing (the bearer API here and the web
 * sign-in in web/roleAuth.ts share one limit per client address): every failure is logged
 * (role, address, request id, never what was presented) and counted, and past
 * RATE_LIMIT_AUTH_FAILURES_PER_MINUTE an address gets 429 even with the right token, so a
 * guess that happens to be right tells the guesser nothing until the limit lets it try again.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import { unauthorized } from '../common/errors.js';
import type { ApiConfig } from '../common/config.js';
import type { Logger } from '../common/log.js';
import { rateLimitHeaders, type RateLimits } from './rateLimit.js';
import { routeOf } from './requestContext.js';

export const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest();

export function sameSecret(given: string, expectedDigest: Buffer): boolean {
  return timingSafeEqual(sha256(given), expectedDigest);
}

/** The bearer token of a request: the Authorization header, or ?token= where allowed. */
export function bearerToken(ctx: Context, options: { allowQuery: boolean }): string | undefined {
  const header = ctx.get('authorization');
  // The scheme name is case-insensitive (RFC 9110 §11.1); the token is not.
  const match = /^Bearer ([A-Za-z0-9_\-.~+/=]{1,512})$/i.exec(header);
  if (match) return match[1];
  if (options.allowQuery && typeof ctx.query['token'] === 'string' && ctx.query['token'] !== '') {
    return ctx.query['token'];
  }
  return undefined;
}

export type StaffRole = 'staff' | 'admin';

interface GuardDeps {
  limits: RateLimits;
  log: Logger;
}

/** Before a staff/admin credential is even looked at: 429 while this address failed too often. */
export async function refuseRepeatedFailures(deps: GuardDeps, ctx: Context): Promise<void> {
  await deps.limits.authFailures.check(ctx.ip);
}

/** A wrong staff/admin credential: logged without it, and counted against the address. */
export async function recordAuthFailure(deps: GuardDeps, ctx: Context, role: StaffRole): Promise<void> {
  deps.log.warn(
    // The route pattern, not the path: a path may hold a coupon code.
    { role, ip: ctx.ip, requestId: ctx.state['requestId'], route: routeOf(ctx) },
    'failed staff/admin authentication',
  );
  await deps.limits.authFailures.count(ctx.ip);
}

/**
 * Middleware that lets a request through only with the role's bearer token, within the
 * per-token limit (RATE_LIMIT_STAFF_PER_MINUTE; the key is a keyed hash of the token).
 * A request with no Authorization header at all is a plain 401: it guesses nothing, so it is
 * neither logged as a failure nor counted.
 */
export function requireToken(
  deps: GuardDeps & { config: Pick<ApiConfig, 'adminToken' | 'staffToken'> },
  role: StaffRole,
) {
  const digest = sha256(role === 'admin' ? deps.config.adminToken : deps.config.staffToken);
  return async function requireTokenMiddleware(ctx: Context, next: Next) {
    await refuseRepeatedFailures(deps, ctx);
    const given = bearerToken(ctx, { allowQuery: false });
    if (given === undefined || !sameSecret(given, digest)) {
      if (ctx.get('authorization') !== '') await recordAuthFailure(deps, ctx, role);
      throw unauthorized();
    }
    const decision = await deps.limits.staffPerToken.take(given);
    if (decision) ctx.set(rateLimitHeaders(decision));
    await next();
  };
}
