/**
 * Voucher notifications for this API instance: `listen(orderId)` wakes whoever waits here for
 * that order's voucher (SSE). Composed of the bucket's steps (bucket/) and the API's own:
 *   - this instance's own queue on the bucket's exchange: every instance hears every voucher;
 *     an event is confirmed in the bucket only when someone here waits for it, else remembered
 *     unconfirmed for a listener that comes a moment later (voucherListeners.ts);
 *   - the relay to crs.orders (bucket/voucherRelay.ts), on the shared queue, in this process
 *     because the API's broker user is the one allowed to publish there;
 *   - after each (re)connect, the database catch-up for the orders waited for (catchUpStored.ts).
 */
import { makeStoredConfirmer, type ConfirmStored } from '../../bucket/confirmStored.js';
import { readBucketNotification } from '../../bucket/minioEvent.js';
import {
  declareOwnQueue,
  makeNotificationQueue,
  type NotificationConsumer,
  type QueueState,
} from '../../bucket/notificationQueue.js';
import { makeVoucherRelay } from '../../bucket/voucherRelay.js';
import type { NetworkConfig } from '../../common/config.js';
import type { Logger } from '../../common/log.js';
import type { ObjectStore } from '../../common/objectStore.js';
import { catchUpStored, type StoredAmong } from './catchUpStored.js';
import { makeVoucherListeners, type VoucherListener, type VoucherListeners } from './voucherListeners.js';

export interface VoucherEvents {
  /**
   * Calls `listener` when the voucher of `orderId` is stored, or at once (after the bucket
   * confirms it) when this instance heard its event in the last 30 s with no one waiting;
   * returns the unsubscribe.
   */
  listen(orderId: string, listener: VoucherListener): () => void;
  state(): QueueState;
  close(): Promise<void>;
}

/** This instance's own queue: only events someone here waits for are worth a look in the bucket. */
function ownQueueConsumer(
  listeners: VoucherListeners,
  confirm: ConfirmStored,
  log: Logger,
): NotificationConsumer {
  return {
    declare: declareOwnQueue,
    async handle(message) {
      const quick = readBucketNotification(message.content, message.properties.contentType ?? null);
      if (!quick.ok) {
        log.debug({ reason: quick.reason }, 'bucket notification dropped');
        return;
      }
      if (!listeners.has(quick.event.orderId)) {
        // Confirmed only if someone comes for it (listen): most never do.
        listeners.remember(quick.event);
        return;
      }
      const reading = await confirm(quick.event);
      if (reading.ok) listeners.deliver(reading.event);
      else log.debug({ reason: reading.reason }, 'bucket notification dropped');
    },
  };
}

export function makeVoucherEvents(options: {
  amqpUrl: string | undefined;
  /** Heartbeats and keepalive (common/connections.ts); the defaults without it. */
  network?: NetworkConfig;
  exchange: string;
  log: Logger;
  /** The vouchers bucket: events for other buckets, or for objects not in it, are dropped. */
  store?: ObjectStore | undefined;
  onMalformed?: () => void;
  /** The vouchers already stored among these orders (from the database), for the catch-up. */
  storedAmong?: StoredAmong;
}): VoucherEvents {
  const { log, storedAmong } = options;
  const confirm = makeStoredConfirmer({ store: options.store, log });
  const listeners = makeVoucherListeners({ confirm, log });
  const queue = makeNotificationQueue({
    amqpUrl: options.amqpUrl,
    network: options.network,
    exchange: options.exchange,
    log,
    consumers: [
      ownQueueConsumer(listeners, confirm, log),
      makeVoucherRelay({ confirm, log, onMalformed: options.onMalformed }),
    ],
    onConnected: () => storedAmong && catchUpStored(listeners, storedAmong, log),
  });
  return { listen: listeners.listen, state: queue.state, close: queue.close };
}
