/**
 * Order access tokens.
 *
 * A token is HMAC-SHA256(ORDER_TOKEN_KEY, orderId, salt) with a random 128-bit salt per order:
 * 256 bits nobody can guess without the key. The database keeps only sha256(token) (to check
 * it) and the salt. The salt is what lets an idempotent replay of POST /api/orders answer with
 * the very same token as the first answer, as the contract requires, without storing it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { sha256 } from '../../http/auth.js';

export interface TokenMaterial {
  token: string;
  hash: Buffer;
  salt: Buffer;
}

/** A new order's token takes a new random 16-byte salt (api/orders/randomBytes.ts). */
export function deriveAccessToken(key: string, orderId: string, salt: Buffer): TokenMaterial {
  const token = createHmac('sha256', key)
    .update('crs-order-token\0')
    .update(orderId)
    .update('\0')
    .update(salt)
    .digest('base64url');
  return { token, hash: sha256(token), salt };
}

/** Constant-time check of a presented token against the stored hash. */
export function tokenMatches(presented: string, storedHash: Buffer): boolean {
  return storedHash.length === 32 && timingSafeEqual(sha256(presented), storedHash);
}
