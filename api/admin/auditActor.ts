/**
 * Who is acting, as the audit trail records it (crs.audit_log, written by the SQL functions
 * that change stock and redeem coupons): the role, a fingerprint of the role's bearer token,
 * the client address, the request id and, on the pages, a fingerprint of the session.
 *
 * Fingerprints are short SHA-256 digests: enough to tell one token (or sign-in) from another,
 * for instance before and after a token was replaced, and no help in guessing it (tokens are
 * random secrets of at least 32 characters, 256 bits as generated; 48 bits of a digest do not
 * narrow that down to anything searchable).
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { Context } from 'koa';
import type { AuditActor } from '../../sql/admin.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

function digest(purpose: string, value: string, hexDigits: number): string {
  return createHash('sha256').update(`crs-audit:${purpose}\0${value}`).digest('hex').slice(0, hexDigits);
}

/** A non-secret name for a bearer token: "token:" and 12 hex digits of a digest. */
export function tokenFingerprint(token: string): string {
  return `token:${digest('token', token, 12)}`;
}

/**
 * The actor of a request that passed the role's token check (the API's bearer token, or the
 * pages' session, which was signed in with that same token). `sessionCookie` is the page
 * session's cookie value, when there is one.
 */
export function auditActor(
  ctx: Context,
  role: AuditActor['role'],
  token: string,
  sessionCookie?: string,
): AuditActor {
  const requestId: unknown = ctx.state['requestId'];
  return {
    role,
    id: tokenFingerprint(token),
    // Behind TRUST_PROXY the address comes from X-Forwarded-For, which the client may fill
    // with anything; a malformed one is left out rather than failing the change with it.
    ...(isIP(ctx.ip) ? { address: ctx.ip } : {}),
    ...(typeof requestId === 'string' && REQUEST_ID.test(requestId) ? { requestId } : {}),
    ...(sessionCookie ? { session: digest('session', sessionCookie, 16) } : {}),
  };
}
