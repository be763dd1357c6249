/**
 * Cross-site request forgery protection for every form post of the pages (the order form,
 * staff and admin actions). Two independent checks, both required:
 *
 * 1. The browser says the post is same-origin: Sec-Fetch-Site is same-origin (or none: typed
 *    by the user), or, from a browser without Fetch Metadata, Origin is this site's own.
 * 2. A signed double-submit token: an HttpOnly, SameSite=Strict cookie holds a random nonce
 *    and each form carries HMAC(key, nonce). Another site can neither read the cookie nor
 *    compute the token for it.
 *
 * API clients posting JSON with bearer tokens are not cookie-authenticated and a cross-site
 * form cannot send JSON, so the JSON routes need neither.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { forbidden } from '../common/errors.js';
import { mac } from './keys.js';

export const CSRF_COOKIE = 'crs_csrf';
export const CSRF_FIELD = '_csrf';
const NONCE = /^[A-Za-z0-9_-]{43}$/;

export interface Csrf {
  /** The token for this response's forms; sets the cookie when the browser has none yet. */
  token(ctx: Context): string;
  /** Throws 403 forbidden unless the post is same-origin and carries the cookie's token. */
  verify(ctx: Context, submitted: string | undefined): void;
}

export function makeCsrf(options: { key: Buffer; publicUrl: string | undefined }): Csrf {
  // Not ctx.origin: Koa 3 answers that with the request's own Origin header when there is one.
  const ownOrigin = (ctx: Context) =>
    options.publicUrl ? new URL(options.publicUrl).origin : `${ctx.protocol}://${ctx.host}`;

  return {
    token(ctx) {
      // Several forms on one page share one nonce (set at most once per response).
      let nonce = (ctx.state['csrfNonce'] as string | undefined) ?? ctx.cookies.get(CSRF_COOKIE);
      if (!nonce || !NONCE.test(nonce)) {
        nonce = randomBytes(32).toString('base64url');
        ctx.cookies.set(CSRF_COOKIE, nonce, {
          httpOnly: true,
          sameSite: 'strict',
          path: '/',
          secure: ctx.cookies.secure || ctx.secure,
          overwrite: true,
        });
      }
      ctx.state['csrfNonce'] = nonce;
      return mac(options.key, 'csrf', nonce);
    },
    verify(ctx, submitted) {
      // Sec-Fetch-Site when the browser sends it (every current one does); else Origin. Origin
      // alone is not enough: under Referrer-Policy no-referrer a form post says "Origin: null".
      const site = ctx.get('sec-fetch-site');
      const origin = ctx.get('origin');
      const crossSite = site
        ? site !== 'same-origin' && site !== 'none'
        : origin !== '' && origin !== 'null' && origin !== ownOrigin(ctx);
      if (crossSite) throw forbidden('Cross-site form posts are refused.');
      const nonce = ctx.cookies.get(CSRF_COOKIE);
      if (!nonce || !NONCE.test(nonce) || !submitted) {
        throw forbidden('The form has expired or cookies are off: reload the page and try again.');
      }
      const expected = Buffer.from(mac(options.key, 'csrf', nonce));
      const given = Buffer.from(submitted);
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw forbidden('The form has expired or cookies are off: reload the page and try again.');
      }
    },
  };
}
