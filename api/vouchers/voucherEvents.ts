/**
 * Voucher notifications for this API instance. The bucket's object-created events (MinIO's
 * AMQP message, on the exchange AMQP_VOUCHER_EXCHANGE, one fixed routing key) arrive on:
 *   - a queue of this instance's own (exclusive): every instance hears every voucher and
 *     wakes whoever waits for that order here (SSE);
 *   - one shared queue (crs.vouchers.relay, competing consumers): exactly one instance
 *     republishes each voucher to the topic exchange crs.orders with the routing key
 *     order.<orderId>.voucher, for AMQP clients waiting on their own order.
 * Messages that are not MinIO object-created events for a voucher key are logged and dropped
 * (never requeued forever, never a crash). The connection is re-opened with backoff when lost.
 */
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { backoffMs } from '../../common/backoff.js';
import type { Logger } from '../../common/log.js';
import { orderIdOfKey } from '../../common/objectStore.js';

export const ORDERS_EXCHANGE = 'crs.orders';
export const RELAY_QUEUE = 'crs.vouchers.relay';

export interface VoucherStored {
  orderId: string;
  key: string;
  bucket: string;
  eventTime: string;
}

export interface VoucherEvents {
  /** Calls `listener` when the voucher of `orderId` is stored; returns the unsubscribe. */
  listen(orderId: string, listener: (event: VoucherStored) => void): () => void;
  state(): 'ok' | 'not configured' | 'connecting';
  close(): Promise<void>;
}

/** Reads a MinIO bucket notification; undefined when it is not a voucher's object-created. */
export function parseBucketNotification(content: Buffer): VoucherStored | undefined {
  let body: unknown;
  try {
    body = JSON.parse(content.toString('utf8'));
  } catch {
    return undefined;
  }
  const record = (body as { Records?: unknown[] } | null)?.Records?.[0] as
    | {
        eventName?: unknown;
        eventTime?: unknown;
        s3?: { bucket?: { name?: unknown }; object?: { key?: unknown } };
      }
    | undefined;
  const eventName = record?.eventName;
  const bucket = record?.s3?.bucket?.name;
  const escapedKey = record?.s3?.object?.key;
  if (typeof eventName !== 'string' || !eventName.startsWith('s3:ObjectCreated:')) return undefined;
  if (typeof bucket !== 'string' || typeof escapedKey !== 'string') return undefined;
  let key: string;
  try {
    // MinIO escapes the key as Go's url.QueryEscape does: '+' is a space.
    key = decodeURIComponent(escapedKey.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
  const orderId = orderIdOfKey(key);
  if (!orderId) return undefined;
  return {
    orderId,
    key,
    bucket,
    eventTime: typeof record?.eventTime === 'string' ? record.eventTime : new Date().toISOString(),
  };
}

export function makeVoucherEvents(options: {
  amqpUrl: string | undefined;
  exchange: string;
  log: Logger;
  onMalformed?: () => void;
}): VoucherEvents {
  const listeners = new Map<string, Set<(event: VoucherStored) => void>>();
  let connection: ChannelModel | undefined;
  let connected = false;
  let closing = false;
  let retryTimer: NodeJS.Timeout | undefined;
  const { log } = options;

  const deliver = (event: VoucherStored) => {
    for (const listener of listeners.get(event.orderId) ?? []) listener(event);
  };

  async function open(attempt: number) {
    if (closing || !options.amqpUrl) return;
    try {
      const conn = await amqp.connect(options.amqpUrl, { timeout: 5_000 });
      connection = conn;
      conn.on('error', (err: Error) => log.warn({ err }, 'voucher events connection error'));
      conn.on('close', () => {
        connected = false;
        connection = undefined;
        if (!closing) schedule(0);
      });
      const channel: Channel = await conn.createChannel();
      await channel.assertExchange(options.exchange, 'fanout', { durable: true });
      await channel.assertExchange(ORDERS_EXCHANGE, 'topic', { durable: true });
      const own = await channel.assertQueue('', { exclusive: true, autoDelete: true });
      await channel.bindQueue(own.queue, options.exchange, '');
      await channel.assertQueue(RELAY_QUEUE, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      await channel.bindQueue(RELAY_QUEUE, options.exchange, '');
      await channel.prefetch(100);

      const read = (message: ConsumeMessage) => {
        const event = parseBucketNotification(message.content);
        if (!event) {
          options.onMalformed?.();
          log.warn(
            { routingKey: message.fields.routingKey, bytes: message.content.length },
            'bucket notification that is not a voucher object-created event dropped',
          );
        }
        return event;
      };
      await channel.consume(own.queue, (message) => {
        if (!message) return;
        const event = read(message);
        channel.ack(message);
        if (event) deliver(event);
      });
      await channel.consume(RELAY_QUEUE, (message) => {
        if (!message) return;
        const event = read(message);
        if (!event) return channel.ack(message);
        channel.publish(
          ORDERS_EXCHANGE,
          `order.${event.orderId}.voucher`,
          Buffer.from(JSON.stringify({ orderId: event.orderId, storedAt: event.eventTime })),
          { persistent: true, contentType: 'application/json', messageId: `voucher-${event.orderId}` },
        );
        channel.ack(message);
      });
      connected = true;
      log.info({ exchange: options.exchange }, 'listening for voucher notifications');
    } catch (err) {
      log.warn({ err, attempt }, 'voucher events: cannot connect to RabbitMQ; retrying');
      await connection?.close().catch(() => undefined);
      connection = undefined;
      schedule(attempt + 1);
    }
  }

  function schedule(attempt: number) {
    clearTimeout(retryTimer);
    const wait = backoffMs(attempt, 250, 10_000);
    retryTimer = setTimeout(() => void open(attempt), wait);
    retryTimer.unref();
  }

  void open(0);

  return {
    listen(orderId, listener) {
      let set = listeners.get(orderId);
      if (!set) listeners.set(orderId, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(orderId);
      };
    },
    state: () => (!options.amqpUrl ? 'not configured' : connected ? 'ok' : 'connecting'),
    async close() {
      closing = true;
      clearTimeout(retryTimer);
      await connection?.close().catch(() => undefined);
    },
  };
}
