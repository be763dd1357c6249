/**
 * Voucher notifications for this API instance. The bucket's object-created events (MinIO's
 * AMQP message, on the exchange AMQP_VOUCHER_EXCHANGE, one fixed routing key) arrive on:
 *   - a queue of this instance's own (exclusive): every instance hears every voucher and
 *     wakes whoever waits for that order here (SSE);
 *   - one shared queue (crs.vouchers.relay, competing consumers): exactly one instance
 *     republishes each voucher to the topic exchange crs.orders with the routing key
 *     order.<orderId>.voucher, for AMQP clients waiting on their own order.
 *
 * Anyone who can publish to the exchange can send anything, so nothing in a message is
 * trusted: a message that is not MinIO's object-created event for a voucher key of our bucket
 * (too large, not JSON, another content type, another shape, a key outside orders/) is
 * dropped and never requeued; the relay's copy goes to the bounded queue
 * crs.vouchers.rejected (with the reason in a header) for inspection, and is logged once. A
 * well-formed event is believed only once the object is seen in the bucket (a HEAD with the
 * API's read key), so a forged event for an order without a voucher reaches no one. Nothing
 * a message holds can throw out of a consumer; a channel or consumer the broker closes is
 * opened again, like a lost connection, with backoff.
 */
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { backoffMs } from '../../common/backoff.js';
import { readNetwork, type NetworkConfig } from '../../common/config.js';
import { closeAmqp, connectAmqp } from '../../common/connections.js';
import { withDeadline } from '../../common/deadline.js';
import type { Logger } from '../../common/log.js';
import { orderIdOfKey, type ObjectStore } from '../../common/objectStore.js';

export const ORDERS_EXCHANGE = 'crs.orders';
export const RELAY_QUEUE = 'crs.vouchers.relay';
/** Where the relay puts messages it could not read (bounded: the oldest go first). */
export const REJECTED_QUEUE = 'crs.vouchers.rejected';
const REJECTED_QUEUE_MAX = { messages: 10_000, bytes: 64 * 1024 * 1024 };
/** A rejected message's body is kept up to this size (a MinIO event is about 1.5 KB). */
const REJECTED_BODY_MAX = 16 * 1024;
/** MinIO's event for one object is about 1.5 KB; a message far bigger is not one. */
export const MAX_NOTIFICATION_BYTES = 64 * 1024;

export interface VoucherStored {
  orderId: string;
  key: string;
  bucket: string;
  eventTime: string;
}

export interface VoucherEvents {
  /**
   * Calls `listener` when the voucher of `orderId` is stored, or at once (after the bucket
   * confirms it) when this instance heard its event in the last 30 s with no one waiting;
   * returns the unsubscribe.
   */
  listen(orderId: string, listener: (event: VoucherStored) => void): () => void;
  state(): 'ok' | 'not configured' | 'connecting';
  close(): Promise<void>;
}

export type NotificationReading = { ok: true; event: VoucherStored } | { ok: false; reason: string };

const rejected = (reason: string): NotificationReading => ({ ok: false, reason });
const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Reads a MinIO bucket notification: the voucher it announces, or why it is not one.
 * `contentType` undefined skips the content type check (for callers that have only a body).
 */
export function readBucketNotification(content: Buffer, contentType?: string | null): NotificationReading {
  if (content.length > MAX_NOTIFICATION_BYTES) return rejected('too large');
  if (contentType !== undefined && !/^application\/json\s*(;|$)/i.test(contentType ?? '')) {
    return rejected('content type is not application/json');
  }
  let body: unknown;
  try {
    body = JSON.parse(content.toString('utf8'));
  } catch {
    return rejected('not JSON');
  }
  const records = isRecord(body) ? body['Records'] : undefined;
  const record: unknown = Array.isArray(records) ? records[0] : undefined;
  if (!isRecord(record)) return rejected('no event record');
  const eventName = record['eventName'];
  if (typeof eventName !== 'string' || !eventName.startsWith('s3:ObjectCreated:')) {
    return rejected('not an object-created event');
  }
  const s3 = isRecord(record['s3']) ? record['s3'] : {};
  const bucket = isRecord(s3['bucket']) ? s3['bucket']['name'] : undefined;
  const escapedKey = isRecord(s3['object']) ? s3['object']['key'] : undefined;
  if (typeof bucket !== 'string' || typeof escapedKey !== 'string') return rejected('no bucket or key');
  let key: string;
  try {
    // MinIO escapes the key as Go's url.QueryEscape does: '+' is a space.
    key = decodeURIComponent(escapedKey.replace(/\+/g, ' '));
  } catch {
    return rejected('key not escaped as MinIO escapes it');
  }
  const orderId = orderIdOfKey(key);
  if (!orderId) return rejected('not a voucher key');
  const eventTime = record['eventTime'];
  return {
    ok: true,
    event: {
      orderId,
      key,
      bucket,
      eventTime:
        typeof eventTime === 'string' && eventTime.length <= 40 && !Number.isNaN(Date.parse(eventTime))
          ? eventTime
          : new Date().toISOString(),
    },
  };
}

/** Reads a MinIO bucket notification; undefined when it is not a voucher's object-created. */
export function parseBucketNotification(content: Buffer): VoucherStored | undefined {
  const reading = readBucketNotification(content);
  return reading.ok ? reading.event : undefined;
}

/** How long a notification waits for the bucket to confirm it (its message is held meanwhile). */
const CONFIRM_TIMEOUT_MS = 2_000;
/** Objects remembered as seen in the bucket (a voucher, once stored, stays). */
const CONFIRMED_KEYS_MAX = 2_000;
/**
 * Voucher events heard while no one here waited, kept for a subscriber who comes a moment
 * later: a client opens its stream after its order's 201, and under load the voucher can be
 * stored in between, its event gone by and not yet recorded in the database.
 */
const RECENT_EVENTS_MAX = 10_000;
const RECENT_EVENTS_MS = 30_000;

/**
 * Whether the announced object is really in our bucket. Errors other than "no such key", and
 * a bucket that does not answer in time, throw.
 */
async function isStored(store: ObjectStore, key: string): Promise<boolean> {
  try {
    await withDeadline(
      store.client.statObject(store.bucket, key),
      CONFIRM_TIMEOUT_MS,
      'the bucket did not answer in time',
    );
    return true;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'NotFound' || code === 'NoSuchKey') return false;
    throw err;
  }
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
  /**
   * The vouchers already stored among these orders (from the database). Asked each time the
   * consumer is (re)connected, for every order someone here waits for: while RabbitMQ was
   * away, or before this instance's queue existed, a voucher's event went to no one.
   */
  storedAmong?: (orderIds: string[]) => Promise<VoucherStored[]>;
}): VoucherEvents {
  const listeners = new Map<string, Set<(event: VoucherStored) => void>>();
  const recent = new Map<string, { event: VoucherStored; at: number }>();
  const remember = (event: VoucherStored) => {
    recent.delete(event.orderId);
    recent.set(event.orderId, { event, at: Date.now() });
    if (recent.size > RECENT_EVENTS_MAX) recent.delete(recent.keys().next().value as string);
  };
  let connection: ChannelModel | undefined;
  let connected = false;
  let closing = false;
  let retryTimer: NodeJS.Timeout | undefined;
  const { log, store } = options;
  // Each event comes twice to an instance where someone waits (its own queue and, often, the
  // relay), at the same moment: one HEAD answers both. Only a key seen stored is remembered.
  const confirming = new Map<string, Promise<boolean>>();
  const confirm = (objectStore: ObjectStore, key: string) => {
    let look = confirming.get(key);
    if (!look) {
      look = isStored(objectStore, key);
      confirming.set(key, look);
      if (confirming.size > CONFIRMED_KEYS_MAX) {
        confirming.delete(confirming.keys().next().value as string);
      }
      look.then(
        (stored) => stored || confirming.delete(key),
        () => confirming.delete(key),
      );
    }
    return look;
  };

  const deliver = (event: VoucherStored) => {
    for (const listener of listeners.get(event.orderId) ?? []) {
      try {
        listener(event);
      } catch (err) {
        log.warn({ err, orderId: event.orderId }, 'voucher listener failed');
      }
    }
  };

  /** A well-formed event, once its object is seen in our bucket; else why not. */
  async function confirmed(event: VoucherStored): Promise<NotificationReading> {
    if (!store) return { ok: true, event };
    if (event.bucket !== store.bucket) return rejected('another bucket');
    try {
      if (!(await confirm(store, event.key))) return rejected('object not in the bucket');
    } catch (err) {
      // The bucket cannot be asked now: believe the event (a download is authorized and
      // looked up on its own), rather than lose a real voucher's notification.
      log.warn({ err, orderId: event.orderId }, 'voucher event not confirmed in the bucket');
    }
    return { ok: true, event };
  }

  /** The voucher a message announces, once it is seen to be real; else why not. */
  async function check(message: ConsumeMessage): Promise<NotificationReading> {
    const reading = readBucketNotification(message.content, message.properties.contentType ?? null);
    return reading.ok ? confirmed(reading.event) : reading;
  }

  /** Delivers a remembered event to a new listener once the bucket confirms it. */
  async function replayRecent(orderId: string, listener: (event: VoucherStored) => void) {
    const seen = recent.get(orderId);
    if (!seen || Date.now() - seen.at > RECENT_EVENTS_MS) return;
    const reading = await confirmed(seen.event);
    if (reading.ok && listeners.get(orderId)?.has(listener)) listener(reading.event);
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

  async function open(attempt: number) {
    if (closing || !options.amqpUrl) return;
    try {
      const conn = await connectAmqp(options.amqpUrl, options.network ?? readNetwork({}));
      connection = conn;
      conn.on('error', (err: Error) => log.warn({ err }, 'voucher events connection error'));
      conn.on('close', () => {
        connected = false;
        connection = undefined;
        if (!closing) schedule(0);
      });
      const channel: Channel = await conn.createChannel();
      // A channel the broker closes (a protocol error) would leave the consumers dead on a
      // live connection: drop the connection, and with it come back whole.
      channel.on('error', (err: Error) => log.warn({ err }, 'voucher events channel error'));
      channel.on('close', () => {
        if (!closing) void conn.close().catch(() => undefined);
      });
      await channel.assertExchange(options.exchange, 'fanout', { durable: true });
      await channel.assertExchange(ORDERS_EXCHANGE, 'topic', { durable: true });
      const own = await channel.assertQueue('', { exclusive: true, autoDelete: true });
      await channel.bindQueue(own.queue, options.exchange, '');
      await channel.assertQueue(RELAY_QUEUE, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      await channel.bindQueue(RELAY_QUEUE, options.exchange, '');
      await channel.assertQueue(REJECTED_QUEUE, {
        durable: true,
        arguments: {
          'x-queue-type': 'quorum',
          'x-max-length': REJECTED_QUEUE_MAX.messages,
          'x-max-length-bytes': REJECTED_QUEUE_MAX.bytes,
        },
      });
      await channel.prefetch(100);

      /** One message, whatever it holds: handled, and acknowledged exactly once. */
      const consume =
        (handle: (message: ConsumeMessage) => Promise<void>) => (message: ConsumeMessage | null) => {
          if (!message) {
            // The broker cancelled the consumer (its queue was deleted): start again.
            log.warn('voucher events consumer cancelled by the broker; reconnecting');
            void conn.close().catch(() => undefined);
            return;
          }
          void handle(message)
            .catch((err: unknown) => log.error({ err }, 'voucher event handling failed'))
            .finally(() => {
              try {
                channel.ack(message);
              } catch {
                // The channel is gone; the message comes again on the next one.
              }
            });
        };

      await channel.consume(
        own.queue,
        consume(async (message) => {
          // Only events someone here waits for are worth a look in the bucket.
          const quick = readBucketNotification(message.content, message.properties.contentType ?? null);
          if (!quick.ok) {
            log.debug({ reason: quick.reason }, 'bucket notification dropped');
            return;
          }
          if (!listeners.has(quick.event.orderId)) {
            // Checked only if someone comes for it (listen): most never do.
            remember(quick.event);
            return;
          }
          const reading = await confirmed(quick.event);
          if (reading.ok) deliver(reading.event);
          else log.debug({ reason: reading.reason }, 'bucket notification dropped');
        }),
      );
      await channel.consume(
        RELAY_QUEUE,
        consume(async (message) => {
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
          const { event } = reading;
          channel.publish(
            ORDERS_EXCHANGE,
            `order.${event.orderId}.voucher`,
            Buffer.from(JSON.stringify({ orderId: event.orderId, storedAt: event.eventTime })),
            { persistent: true, contentType: 'application/json', messageId: `voucher-${event.orderId}` },
          );
        }),
      );
      connected = true;
      log.info({ exchange: options.exchange }, 'listening for voucher notifications');
      catchUp();
    } catch (err) {
      log.warn({ err, attempt }, 'voucher events: cannot connect to RabbitMQ; retrying');
      if (connection) await closeAmqp(connection);
      connection = undefined;
      schedule(attempt + 1);
    }
  }

  /** Delivers what was stored while no event could reach us (see storedAmong). */
  function catchUp() {
    const waiting = [...listeners.keys()];
    if (!options.storedAmong || waiting.length === 0) return;
    options
      .storedAmong(waiting)
      .then((stored) => {
        if (stored.length > 0)
          log.info({ vouchers: stored.length }, 'vouchers stored while unheard delivered');
        for (const event of stored) deliver(event);
      })
      .catch((err: unknown) => log.warn({ err }, 'could not look for vouchers stored while unheard'));
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
      if (recent.has(orderId)) {
        void replayRecent(orderId, listener).catch((err: unknown) =>
          log.warn({ err, orderId }, 'voucher listener failed'),
        );
      }
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(orderId);
      };
    },
    state: () => (!options.amqpUrl ? 'not configured' : connected ? 'ok' : 'connecting'),
    async close() {
      closing = true;
      clearTimeout(retryTimer);
      if (connection) await closeAmqp(connection);
    },
  };
}
