/**
 * Deciding one order, whatever shape it came in (JSON from an API client, a form from the
 * page): the sold-out shortcut, validation, the stored procedure, metrics. Refusals are thrown
 * as the contract's AppErrors; each route only chooses how to answer.
 *
 * The sold-out shortcut comes first, as soon as the product is known (CONTRACT, precedence):
 * in a flash sale nearly every request is a refusal, and one answered from the stock flag then
 * costs what the trivial route costs, not a full validation (phone numbers parsed against
 * libphonenumber's metadata) and a per-customer limit's Redis round trip first.
 */
import { AppError, unavailable } from '../../common/errors.js';
import type { PlaceOrderResult } from '../../sql/placeOrder.js';
import type { ApiDeps } from '../deps.js';
import { parseOrThrow } from '../../http/validate.js';
import { PRODUCT_ID } from '../../common/identifiers.js';
import { deriveAccessToken } from './accessToken.js';
import { QueueFullError } from './groupCommit.js';
import { makeOrderRequestSchema } from './orderRequest.js';
import { makeRandomBytes } from './randomBytes.js';

export interface TakenOrder {
  /** 201 for a new reservation, 200 for a replay of one. */
  status: 200 | 201;
  orderId: string;
  productId: string;
  accessToken: string;
}

export const REFUSALS: Record<string, AppError> = {
  order_id_conflict: new AppError('order_id_conflict', 'This order id was already used with other details.', {
    status: 409,
  }),
  duplicate_customer: new AppError(
    'duplicate_customer',
    'This customer already holds an order for this product.',
    { status: 409 },
  ),
  out_of_stock: new AppError('out_of_stock', 'The product is out of stock.', { status: 409 }),
  unknown_product: new AppError('invalid_request', 'The request is not valid.', {
    status: 400,
    details: [{ field: 'productId', message: 'no such product' }],
  }),
};

export type TakeOrder = (input: unknown) => Promise<TakenOrder>;

/**
 * The product a body names before it is validated, and whether it carries the client's own
 * order id; undefined when the body is not an object or names no valid product id (validation
 * then answers).
 */
function productNamedBy(
  input: unknown,
  fallback: string,
): { productId: string; hasOrderId: boolean } | undefined {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return undefined;
  const fields = input as Record<string, unknown>;
  const given = fields['productId'];
  if (given !== undefined && (typeof given !== 'string' || !PRODUCT_ID.test(given))) return undefined;
  return { productId: given ?? fallback, hasOrderId: fields['orderId'] !== undefined };
}

export function makeTakeOrder(deps: ApiDeps): TakeOrder {
  const schema = makeOrderRequestSchema(deps.config.defaultCountry);
  const randomBytes = makeRandomBytes();

  return async function takeOrder(input) {
    // An order with its own id may be a retry of one already reserved: only Postgres can tell,
    // so those are never refused from the flag (refuseWithoutDatabase says no).
    const named = productNamedBy(input, deps.config.defaultProductId);
    if (named && (await deps.stock.refuseWithoutDatabase(named.productId, named.hasOrderId))) {
      deps.metrics.orders.inc({ outcome: 'out_of_stock_flag' });
      throw REFUSALS['out_of_stock'];
    }
    const body = parseOrThrow(schema, input);
    // After validation (the key is the normalised phone), before anything is decided; a
    // replay of the same order id counts too, so retries stay bounded.
    await deps.limits.ordersPerCustomer.take(body.phone);
    const productId = body.productId ?? deps.config.defaultProductId;
    // 128 random bits when the client did not choose an id.
    const orderId = body.orderId ?? randomBytes(16).toString('base64url');
    const token = deriveAccessToken(deps.config.orderTokenKey, orderId, randomBytes(16));
    const endTimer = deps.metrics.placeOrderSeconds.startTimer();
    let result: PlaceOrderResult;
    try {
      result = await deps.orders.decide({
        orderId,
        productId,
        customerKey: body.phone,
        firstName: body.firstName,
        lastName: body.lastName,
        phone: body.phone,
        tokenHash: token.hash,
        tokenSalt: token.salt,
      });
    } catch (err) {
      endTimer({ outcome: 'error' });
      deps.metrics.orders.inc({ outcome: 'error' });
      // A full queue means the database is behind: nothing was written, come back shortly.
      throw err instanceof QueueFullError ? unavailable(err) : err;
    }
    endTimer({ outcome: result.outcome });
    deps.metrics.orders.inc({ outcome: result.outcome });

    if (result.outcome === 'reserved') {
      deps.stock.reserved(productId);
      return { status: 201, orderId, productId, accessToken: token.token };
    }
    if (result.outcome === 'replay' && result.tokenSalt) {
      const again = deriveAccessToken(deps.config.orderTokenKey, orderId, result.tokenSalt);
      return { status: 200, orderId, productId, accessToken: again.token };
    }
    // Still short of stock after 2 s while other orders held it: the database could not decide.
    if (result.outcome === 'busy') throw unavailable(new Error(`no stock of ${productId} came free in time`));
    throw REFUSALS[result.outcome] ?? new Error(`unexpected outcome ${result.outcome}`);
  };
}
