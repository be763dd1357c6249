/**
 * Bearer-token checks. Secrets are compared through SHA-256 digests with timingSafeEqual, so
 * neither the content nor the length of a token leaks through response times.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';
import { unauthorized } from '../../common/errors.js';

export const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest();

export function sameSecret(given: string, expectedDigest: Buffer): boolean {
  return timingSafeEqual(sha256(given), expectedDigest);
}

/** The bearer token of a request: the Authorization header, or ?token= where allowed. */
export function bearerToken(ctx: Context, options: { allowQuery: boolean }): string | undefined {
  const header = ctx.get('authorization');
  const match = /^Bearer ([A-Za-z0-9_\-.~+/=]{1,512})$/.exec(header);
  if (match) return match[1];
  if (options.allowQuery && typeof ctx.query['token'] === 'string' && ctx.query['token'] !== '') {
    return ctx.query['token'];
  }
  return undefined;
}

/** Middleware that lets a request through only with the given bearer token. */
export function requireToken(token: string) {
  const digest = sha256(token);
  return async function requireTokenMiddleware(ctx: Context, next: Next) {
    const given = bearerToken(ctx, { allowQuery: false });
    if (given === undefined || !sameSecret(given, digest)) throw unauthorized();
    await next();
  };
}
