/**
 * Short-lived download links for a voucher: /api/orders/<id>/voucher?expires=<unix>&signature=<hmac>.
 * What the SSE event carries instead of a permanent location: valid for a few minutes, bound
 * to one order, unforgeable without ORDER_TOKEN_KEY.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

export const LINK_TTL_SECONDS = 300;

/** Unix seconds; twelve digits reach far past any link this makes. */
const EXPIRES = /^\d{1,12}$/;

/** The query of a download link, as GET /api/orders/:orderId/voucher reads it. */
export const downloadLinkQuery = z.object({
  expires: z
    .string()
    .regex(EXPIRES)
    .optional()
    .describe('With signature: when the download link expires, in Unix seconds'),
  signature: z
    .string()
    .optional()
    .describe("The download link's signature; given, the link stands in for the order token"),
});

function sign(key: string, orderId: string, expires: number) {
  return createHmac('sha256', key).update(`crs-voucher-link\0${orderId}\0${expires}`).digest('base64url');
}

export function makeDownloadLink(base: string, key: string, orderId: string, now = Date.now()) {
  const expires = Math.floor(now / 1000) + LINK_TTL_SECONDS;
  return `${base}/api/orders/${orderId}/voucher?expires=${expires}&signature=${sign(key, orderId, expires)}`;
}

export function verifyDownloadLink(
  key: string,
  orderId: string,
  expires: unknown,
  signature: unknown,
  now = Date.now(),
): boolean {
  if (typeof expires !== 'string' || typeof signature !== 'string' || !EXPIRES.test(expires)) return false;
  const at = Number(expires);
  if (at < Math.floor(now / 1000)) return false;
  const expected = Buffer.from(sign(key, orderId, at));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
