import type { Context, Next } from 'koa';

/** Safe defaults for every response; the HTML page adds its own Content-Security-Policy. */
export function securityHeaders() {
  return async function securityHeadersMiddleware(ctx: Context, next: Next) {
    ctx.set({
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
      'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
      'Cross-Origin-Resource-Policy': 'same-origin',
    });
    await next();
  };
}
