/**
 * The page's side of POST /api/orders and GET /api/orders/:orderId (api/orders/routes.ts):
 * a form post is checked for CSRF and decided by the same takeOrder as JSON; htmx gets the
 * fragment for #order-area (the status, or the form again with its errors, under the same
 * status code as the JSON answer), and a browser without script gets a redirect to the order's
 * page (post/redirect/get) or the page again with the errors.
 */
import { randomBytes } from 'node:crypto';
import type { FieldProblem } from '../common/errors.js';
import type { StoredOrder } from '../sql/getOrder.js';
import { readFormBody } from '../http/body.js';
import type { OrderHtmlResponder } from '../api/orders/routes.js';
import { makeDownloadLink } from '../api/vouchers/downloadLink.js';
import { CSRF_FIELD } from './csrf.js';
import { isHtmx, stringsOf, type WebKit } from './kit.js';
import { page, setPageHeaders } from './pages/layout.js';
import {
  availability,
  messagePage,
  orderPage,
  orderStatus,
  productPage,
  type OrderField,
  type OrderFormState,
  type OrderView,
} from './pages/orderPages.js';

const newOrderId = () => randomBytes(16).toString('base64url');

/** What the customer typed, kept to show the form again. */
interface Submitted {
  orderId: string;
  productId: string;
  values: Partial<Record<OrderField, string>>;
}

/** What the status fragment shows of a stored order, with a fresh download link. */
export function toOrderView(kit: WebKit, order: StoredOrder): OrderView {
  const { config } = kit.deps;
  return {
    orderId: order.orderId,
    productId: order.productId,
    status: order.status,
    voucherUrl: order.voucherKey
      ? makeDownloadLink(config.publicUrl ?? '', config.orderTokenKey, order.orderId)
      : undefined,
    redeemedAt: order.redeemedAt,
    productName: order.productName,
    couponCode: order.voucherKey ? order.couponCode : undefined,
  };
}

export function makeOrderResponder(kit: WebKit): OrderHtmlResponder {
  const { deps } = kit;
  const base = deps.config.publicUrl ?? '';

  return {
    wantsHtml(ctx) {
      return isHtmx(ctx) || ctx.accepts('application/json', 'text/html') === 'text/html';
    },

    async placeFromForm(ctx, take) {
      const fields = await readFormBody(ctx, deps.config.bodyLimitBytes);
      const { [CSRF_FIELD]: csrfToken, ...input } = fields;
      const submitted: Submitted = {
        orderId: input['orderId'] ?? '',
        productId: input['productId'] ?? '',
        values: { firstName: input['firstName'], lastName: input['lastName'], phone: input['phone'] },
      };
      ctx.state['submittedOrder'] = submitted;
      kit.csrf.verify(ctx, csrfToken);
      // An empty optional field is an absent one, as in JSON.
      if (input['orderId'] === '') delete input['orderId'];
      if (input['productId'] === '') delete input['productId'];
      const taken = await take(input);
      const t = stringsOf(ctx);
      ctx.vary('HX-Request');
      if (isHtmx(ctx)) {
        ctx.status = taken.status;
        const status = orderStatus(
          t,
          { orderId: taken.orderId, productId: taken.productId, status: 'reserved' },
          taken.accessToken,
        );
        setPageHeaders(ctx);
        ctx.body = status.text;
        return;
      }
      ctx.status = 303;
      ctx.redirect(`${base}/orders/${taken.orderId}?token=${encodeURIComponent(taken.accessToken)}`);
    },

    renderOrder(ctx, order) {
      const t = stringsOf(ctx);
      const status = orderStatus(t, toOrderView(kit, order));
      const body = isHtmx(ctx)
        ? status.text
        : page(
            { t, assets: kit.assets },
            {
              title: order.productName,
              main: orderPage(t, order.orderId, status, order.productName),
            },
          );
      setPageHeaders(ctx);
      ctx.body = body;
    },

    async renderError(ctx, err) {
      const t = stringsOf(ctx);
      const submitted = ctx.state['submittedOrder'] as Submitted | undefined;
      const productId = submitted?.productId || deps.config.defaultProductId;
      const problems =
        err.code === 'invalid_request' && Array.isArray(err.details) ? (err.details as FieldProblem[]) : [];
      const form: OrderFormState = {
        csrf: kit.csrf.token(ctx),
        // After a conflict this id is spent; otherwise nothing was stored under it.
        orderId: err.code === 'order_id_conflict' || !submitted?.orderId ? newOrderId() : submitted.orderId,
        productId,
        values: submitted?.values ?? {},
        message: t.errors[err.code] ?? err.message,
        problems,
      };
      if (ctx.method === 'GET') {
        // GET /api/orders/:orderId asked for HTML: not found, or not allowed.
        const body = messagePage(t, t.orderNotFound, t.errors[err.code] ?? err.message);
        ctx.body = isHtmx(ctx)
          ? body.text
          : page({ t, assets: kit.assets }, { title: t.orderNotFound, main: body });
        setPageHeaders(ctx);
        return;
      }
      const available = err.code !== 'out_of_stock';
      if (isHtmx(ctx)) {
        ctx.body = availability(t, available, form).text;
        setPageHeaders(ctx);
        return;
      }
      const stock = await deps.stock.get(productId);
      ctx.body = stock
        ? page(
            { t, assets: kit.assets },
            {
              title: stock.name,
              main: productPage(t, { ...stock, available: stock.available && available }, form),
            },
          )
        : page(
            { t, assets: kit.assets },
            { title: t.siteName, main: messagePage(t, t.siteName, form.message ?? '') },
          );
      setPageHeaders(ctx);
    },
  };
}
