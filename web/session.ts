/**
 * Signed-in staff and admins on the pages. Signing in with the role's token (STAFF_TOKEN or
 * ADMIN_TOKEN) sets an HttpOnly, SameSite=Strict cookie scoped to that role's path, holding
 * an expiry and a MAC, not the token. The MAC key is derived from the role's token too, so
 * changing STAFF_TOKEN or ADMIN_TOKEN signs everyone out.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';
import { sameSecret, sha256 } from '../http/auth.js';
import { deriveKey, mac } from './keys.js';

export type Role = 'staff' | 'admin';

export interface RoleSession {
  role: Role;
  /** The path the pages of this role live under (and the cookie's path). */
  path: string;
  signedIn(ctx: Context): boolean;
  /** Checks the token; on success sets the cookie. */
  signIn(ctx: Context, givenToken: string): boolean;
  signOut(ctx: Context): void;
}

const SESSION_HOURS = 8;

export function makeRoleSession(options: { role: Role; token: string; secret: string }): RoleSession {
  const { role } = options;
  const cookie = `crs_${role}`;
  const path = `/${role}`;
  const tokenDigest = sha256(options.token);
  const key = deriveKey(
    options.secret,
    `session:${role}:${createHash('sha256').update(options.token).digest('hex')}`,
  );
  const cookieOptions = (ctx: Context) => ({
    httpOnly: true,
    sameSite: 'strict' as const,
    path,
    secure: ctx.cookies.secure || ctx.secure,
    overwrite: true,
  });

  return {
    role,
    path,
    signedIn(ctx) {
      const value = ctx.cookies.get(cookie);
      const match = value && /^(\d{13})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(value);
      if (!match) return false;
      const [, expires = '', nonce = '', signature = ''] = match;
      if (Number(expires) < Date.now()) return false;
      const expected = Buffer.from(mac(key, role, expires, nonce));
      return timingSafeEqual(expected, Buffer.from(signature));
    },
    signIn(ctx, givenToken) {
      if (!sameSecret(givenToken, tokenDigest)) return false;
      const expires = String(Date.now() + SESSION_HOURS * 3_600_000);
      const nonce = randomBytes(16).toString('base64url');
      ctx.cookies.set(cookie, `${expires}.${nonce}.${mac(key, role, expires, nonce)}`, {
        ...cookieOptions(ctx),
        maxAge: SESSION_HOURS * 3_600_000,
      });
      return true;
    },
    signOut(ctx) {
      ctx.cookies.set(cookie, '', { ...cookieOptions(ctx), maxAge: 0 });
    },
  };
}
