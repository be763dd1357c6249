/**
 * Gives each request an id (the caller's X-Request-Id when it is well-formed, else a new
 * one), a child logger carrying it, and one access-log line when the response is done.
 */
import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from '../common/log.js';

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

export function requestContext(log: Logger) {
  return async function requestContextMiddleware(ctx: Context, next: Next) {
    const given = ctx.get('x-request-id');
    const requestId = CLIENT_REQUEST_ID.test(given) ? given : randomUUID();
    const started = process.hrtime.bigint();
    ctx.state['requestId'] = requestId;
    // The request's logger carrying its id, made when something logs: most requests log only
    // their access line, and a child logger per request (with the redaction it carries) was a
    // visible share of a cheap request's CPU.
    let child: Logger | undefined;
    Object.defineProperty(ctx.state, 'log', {
      get: () => (child ??= log.child({ requestId })),
      enumerable: true,
      configurable: true,
    });
    ctx.set('X-Request-Id', requestId);
    try {
      await next();
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      log.info(
        {
          requestId,
          method: ctx.method,
          route: routeOf(ctx),
          status: ctx.status,
          ms: Math.round(ms * 10) / 10,
        },
        'request',
      );
    }
  };
}

/** The route pattern that matched (low-cardinality label), or "unmatched". */
export function routeOf(ctx: Context): string {
  const matched = (ctx as Context & { _matchedRoute?: string | RegExp })._matchedRoute;
  return typeof matched === 'string' ? matched : 'unmatched';
}
