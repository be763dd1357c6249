import { createHmac } from 'node:crypto';

/**
 * A key for one purpose, derived from ORDER_TOKEN_KEY: one secret to manage, and a key that
 * leaks from one use (or is misused in another) says nothing about the others.
 */
export function deriveKey(secret: string, purpose: string): Buffer {
  return createHmac('sha256', secret).update(`crs-web-key\0${purpose}`).digest();
}

export const mac = (key: Buffer, ...parts: string[]) =>
  createHmac('sha256', key).update(parts.join('\0')).digest('base64url');
