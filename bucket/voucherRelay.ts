/**
 * The relay: each voucher the bucket announces, once confirmed in the bucket, republished to
 * the topic exchange crs.orders with the routing key order.<orderId>.voucher, for AMQP clients
 * that wait on their own order (docs/vouchers.md). The shared quorum queue crs.vouchers.relay
 * has competing consumers, so exactly one instance relays each notification.
 *
 * A message that is not a real voucher's event is never requeued: it goes to the bounded queue
 * crs.vouchers.rejected, with the reason in a header, for inspection, and is logged once.
 */
import type { Channel, ConsumeMessage } from 'amqplib';
import type { Logger } from '../common/log.js';
import type { ConfirmStored } from './confirmStored.js';
import { readBucketNotification, type NotificationReading, type VoucherStored } from './minioEvent.js';
import type { NotificationConsumer } from './notificationQueue.js';

export const ORDERS_EXCHANGE = 'crs.orders';
export const RELAY_QUEUE = 'crs.vouchers.relay';
/** Where the relay puts messages it could not read (bounded: the oldest go first). */
export const REJECTED_QUEUE = 'crs.vouchers.rejected';
const REJECTED_QUEUE_MAX = { messages: 10_000, bytes: 64 * 1024 * 1024 };
/** A rejected message's body is kept up to this size (a MinIO event is about 1.5 KB). */
const REJECTED_BODY_MAX = 16 * 1024;

/** The routing key and body of a voucher's announcement on crs.orders. */
export function orderAnnouncement(event: VoucherStored) {
  return {
    routingKey: `order.${event.orderId}.voucher`,
    body: Buffer.from(JSON.stringify({ orderId: event.orderId, storedAt: event.eventTime })),
    messageId: `voucher-${event.orderId}`,
  };
}

async function declare(channel: Channel, exchange: string): Promise<string> {
  await channel.assertExchange(ORDERS_EXCHANGE, 'topic', { durable: true });
  await channel.assertQueue(RELAY_QUEUE, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await channel.bindQueue(RELAY_QUEUE, exchange, '');
  await channel.assertQueue(REJECTED_QUEUE, {
    durable: true,
    arguments: {
      'x-queue-type': 'quorum',
      'x-max-length': REJECTED_QUEUE_MAX.messages,
      'x-max-length-bytes': REJECTED_QUEUE_MAX.bytes,
    },
  });
  return RELAY_QUEUE;
}

/** Keeps an unreadable message for inspection (its body only when it is small). */
function putAside(channel: Channel, message: ConsumeMessage, reason: string) {
  const small = message.content.length <= REJECTED_BODY_MAX;
  channel.sendToQueue(REJECTED_QUEUE, small ? message.content : Buffer.alloc(0), {
    persistent: true,
    contentType: small ? message.properties.contentType : undefined,
    headers: {
      'x-crs-rejected-reason': reason,
      'x-crs-original-bytes': message.content.length,
      'x-crs-original-routing-key': message.fields.routingKey,
      'x-crs-rejected-at': new Date().toISOString(),
    },
  });
}

/** The relay as a consumer of the bucket's notifications (bucket/notificationQueue.ts). */
export function makeVoucherRelay(options: {
  confirm: ConfirmStored;
  log: Logger;
  /** Called for each message put aside. */
  onMalformed?: (() => void) | undefined;
}): NotificationConsumer {
  const { confirm, log } = options;

  async function check(message: ConsumeMessage): Promise<NotificationReading> {
    const reading = readBucketNotification(message.content, message.properties.contentType ?? null);
    return reading.ok ? confirm(reading.event) : reading;
  }

  return {
    declare,
    async handle(message, channel) {
      const reading = await check(message);
      if (!reading.ok) {
        options.onMalformed?.();
        log.warn(
          {
            reason: reading.reason,
            routingKey: message.fields.routingKey,
            bytes: message.content.length,
            queue: REJECTED_QUEUE,
          },
          'bucket notification that is not a voucher object-created event put aside',
        );
        putAside(channel, message, reading.reason);
        return;
      }
      const announcement = orderAnnouncement(reading.event);
      channel.publish(ORDERS_EXCHANGE, announcement.routingKey, announcement.body, {
        persistent: true,
        contentType: 'application/json',
        messageId: announcement.messageId,
      });
    },
  };
}
