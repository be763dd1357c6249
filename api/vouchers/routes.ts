/**
 * GET /api/orders/:orderId/events (SSE) and GET /api/orders/:orderId/voucher.
 *
 * No race between a voucher being stored and a client subscribing: the listener is in place
 * before the database is asked, so a voucher stored before the subscription is found in the
 * database and one stored after it arrives as a notification (possibly both: sent once).
 * Notifications missed while RabbitMQ was down are found the same way on the next subscribe.
 * A voucher stored just before the listener was in place (the client opens its stream after
 * the 201; under load the renderer can be quicker), its notification heard while no one
 * waited and the voucher not yet recorded, is handed over from the events the instance
 * remembers (voucherListeners.ts). A gap remains where a notification goes by unheard and the
 * voucher is recorded only after the database was asked: while this instance's queue was
 * being declared again after RabbitMQ came back, its catch-up query ran before the renderer
 * recorded the voucher. So while the stream waits, the database is asked again, 2 s after
 * the subscription and then less and less often (at most every 15 s), the streams that are due
 * together in one query (voucherRechecks.ts), instead of a bucket stat per subscribe, which
 * cost the API and the object store more CPU than the notifications themselves.
 */
import { Router } from '@koa/router';
import { AppError, notFound, unauthorized } from '../../common/errors.js';
import { getOrder } from '../../sql/getOrder.js';
import { voucherKey } from '../../common/objectStore.js';
import type { ApiDeps } from '../deps.js';
import { checkStreamCapacity, startEventStream } from '../../http/eventStream.js';
import { parseParams, takesParameters, type ParameterSchemas } from '../../http/validate.js';
import { authorizeOrder, orderPath } from '../orders/orderAccess.js';
import { downloadLinkQuery, makeDownloadLink, verifyDownloadLink } from './downloadLink.js';

/** GET /api/orders/:orderId/events (parsed by authorizeOrder). */
export const orderEventsParameters: ParameterSchemas = { path: orderPath };

/** GET /api/orders/:orderId/voucher: the order token, or a download link's query. */
export const voucherParameters: ParameterSchemas = { path: orderPath, query: downloadLinkQuery };

export function makeVoucherRoutes(deps: ApiDeps): Router {
  const router = new Router();
  const base = deps.config.publicUrl ?? '';

  /** Whether the order's voucher object exists (stored, perhaps not recorded yet). */
  const voucherInBucket = async (orderId: string) => {
    if (!deps.store) return false;
    try {
      await deps.store.client.statObject(deps.store.bucket, voucherKey(orderId));
      return true;
    } catch {
      return false;
    }
  };

  router.get(
    '/api/orders/:orderId/events',
    takesParameters(orderEventsParameters, async (ctx) => {
      checkStreamCapacity(deps, [{ address: ctx.ip }]);
      const order = await authorizeOrder(ctx, deps);
      // Counted per order only once the token proved it: a stranger learns nothing of it.
      const owners = [{ address: ctx.ip }, { order: order.orderId }];
      checkStreamCapacity(deps, owners);
      const stream = startEventStream(ctx, deps, owners);
      let sent = false;
      let unwatch = () => {};
      const sendVoucher = () => {
        if (sent) return;
        sent = true;
        unwatch();
        stream.send('voucher', {
          orderId: order.orderId,
          url: makeDownloadLink(base, deps.config.orderTokenKey, order.orderId),
        });
      };
      if (order.voucherKey) {
        sendVoucher();
        return;
      }
      stream.onClose(deps.vouchers.listen(order.orderId, sendVoucher));
      // The listener is in place: now a voucher recorded earlier is found in the database.
      if ((await getOrder(deps.pool, order.orderId))?.voucherKey) {
        sendVoucher();
        return;
      }
      // Asked again later, with the other waiting streams (a notification can be missed).
      if (!sent) unwatch = deps.voucherRechecks.watch(order.orderId, sendVoucher);
      stream.onClose(() => unwatch());
    }),
  );

  router.get(
    '/api/orders/:orderId/voucher',
    takesParameters(voucherParameters, async (ctx) => {
      // Without a signature the query is not read: the order token decides (authorizeOrder).
      const signed = ctx.query['signature'] !== undefined;
      let order;
      if (signed) {
        const { orderId } = parseParams(orderPath, ctx.params, () => notFound('order'));
        const link = parseParams(downloadLinkQuery, ctx.query, () => unauthorized());
        if (!verifyDownloadLink(deps.config.orderTokenKey, orderId, link.expires, link.signature)) {
          throw unauthorized();
        }
        order = await getOrder(deps.pool, orderId);
        if (!order) throw notFound('order');
      } else {
        order = await authorizeOrder(ctx, deps);
      }
      // Recorded in the database, or (for a moment after the upload) only in the bucket.
      const key =
        order.voucherKey ?? ((await voucherInBucket(order.orderId)) ? voucherKey(order.orderId) : undefined);
      if (!key) throw notFound('voucher (not stored yet)');
      if (!deps.store) {
        throw new AppError('unavailable', 'Voucher storage is not configured here.', {
          status: 503,
          headers: { 'Retry-After': '60' },
        });
      }
      const body = await deps.store.getVoucher(key);
      ctx.set({
        'Content-Type': 'application/pdf',
        'Content-Disposition': `attachment; filename="voucher-${order.orderId}.pdf"`,
        'Cache-Control': 'private, no-store',
      });
      ctx.body = body;
    }),
  );

  return router;
}
