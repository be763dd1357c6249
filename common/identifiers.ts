/**
 * The identifiers every part of the system checks, defined once: order and product ids (the
 * same rules as the tables' check constraints, migrations/000001_order_core.sql), the bound of
 * a product's total, and coupon codes as people type them (made by sql/coupon_code.sql).
 */

/** An order id's characters, without anchors: for patterns that embed it (object keys). */
export const ORDER_ID_BODY = '[A-Za-z0-9_-]{8,64}';
export const ORDER_ID = new RegExp(`^${ORDER_ID_BODY}$`);
export const ORDER_ID_RULE = 'must be 8 to 64 characters of A-Z a-z 0-9 _ -';

export const PRODUCT_ID = /^[A-Za-z0-9_-]{1,64}$/;
export const PRODUCT_ID_RULE = 'must be 1 to 64 characters of A-Z a-z 0-9 _ -';

export const isOrderId = (v: unknown): v is string => typeof v === 'string' && ORDER_ID.test(v);
export const isProductId = (v: unknown): v is string => typeof v === 'string' && PRODUCT_ID.test(v);

/** The largest stock total a product may have (the admin API and page both refuse more). */
export const MAX_TOTAL = 1_000_000_000;

/*
 * Coupon codes: the same Crockford base-32 alphabet and Luhn mod 32 check symbol as
 * sql/coupon_code.sql. Input is read generously (any case, with or without separators and
 * spaces, O for 0 and I/L for 1) and always printed in one form.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const N = ALPHABET.length;
const PAYLOAD_LENGTH = 17;

/** Luhn mod N check symbol of a payload over the alphabet. */
export function checkSymbol(payload: string): string {
  let factor = 2;
  let sum = 0;
  for (let i = payload.length - 1; i >= 0; i -= 1) {
    let addend = factor * ALPHABET.indexOf(payload[i] as string);
    addend = Math.floor(addend / N) + (addend % N);
    sum += addend;
    factor = 3 - factor;
  }
  return ALPHABET[(N - (sum % N)) % N] as string;
}

/** The canonical form ('K3M9QX-D2HFAW-N8R5T7') of a typed code, or undefined if it is not one. */
export function normaliseCouponCode(input: string): string | undefined {
  if (input.length > 64) return undefined;
  const symbols = input.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  if (symbols.length !== PAYLOAD_LENGTH + 1) return undefined;
  if ([...symbols].some((symbol) => !ALPHABET.includes(symbol))) return undefined;
  const payload = symbols.slice(0, PAYLOAD_LENGTH);
  if (checkSymbol(payload) !== symbols[PAYLOAD_LENGTH]) return undefined;
  return `${symbols.slice(0, 6)}-${symbols.slice(6, 12)}-${symbols.slice(12)}`;
}
