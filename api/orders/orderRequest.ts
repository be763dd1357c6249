/**
 * The body of POST /api/orders, validated and normalised: names in any script (NFC, trimmed,
 * no control characters), the phone number parsed to E.164, which is the customer key.
 */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { z } from 'zod';
import { displayText, productIdField, requiredString } from '../../http/validate.js';
import { ORDER_ID, ORDER_ID_RULE } from '../../common/identifiers.js';

export interface OrderRequest {
  orderId: string | undefined;
  productId: string | undefined;
  firstName: string;
  lastName: string;
  /** E.164, e.g. +358401234567: the customer key. */
  phone: string;
}

const PHONE_CHARACTERS = /^\+?[0-9 ().-]{4,32}$/;

export function makeOrderRequestSchema(defaultCountry: string) {
  return z.strictObject(
    {
      orderId: requiredString().regex(ORDER_ID, { message: ORDER_ID_RULE }).optional(),
      productId: productIdField().optional(),
      firstName: displayText(100),
      lastName: displayText(100),
      phone: requiredString()
        .max(32, { message: 'must be at most 32 characters' })
        .regex(PHONE_CHARACTERS, {
          message: 'may contain only digits, spaces, + ( ) . and -',
        })
        .transform((value, ctx) => {
          const parsed = parsePhoneNumberFromString(value, defaultCountry as CountryCode);
          if (!parsed || !parsed.isValid()) {
            ctx.addIssue({
              code: 'custom',
              message: 'is not a valid phone number (e.g. +358 40 123 4567)',
            });
            return z.NEVER;
          }
          return parsed.number;
        }),
    },
    { error: (issue) => (issue.input === undefined ? 'is required' : 'must be a JSON object') },
  );
}
