/**
 * The AMQP side of the bucket's notifications: one connection and channel to RabbitMQ, the
 * bucket's fanout exchange (AMQP_VOUCHER_EXCHANGE, MinIO publishes with one fixed routing key),
 * the consumers' queues, and reconnects with backoff.
 *
 * Nothing a message holds can throw out of a consumer: each message is handled and then
 * acknowledged exactly once, never requeued (a message that could not be read once will not be
 * read the next time). A channel or consumer the broker closes is opened again, like a lost
 * connection, with backoff, and `onConnected` runs after each (re)connect.
 */
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { backoffMs } from '../common/backoff.js';
import { readNetwork, type NetworkConfig } from '../common/config.js';
import { closeAmqp, connectAmqp } from '../common/connections.js';
import type { Logger } from '../common/log.js';

export interface NotificationConsumer {
  /** Declares the queue it consumes, bound to `exchange`, and what it publishes to; its name. */
  declare(channel: Channel, exchange: string): Promise<string>;
  /** One message; what it throws is logged, and the message is acknowledged all the same. */
  handle(message: ConsumeMessage, channel: Channel): Promise<void>;
}

export type QueueState = 'ok' | 'not configured' | 'connecting';

export interface NotificationQueue {
  state(): QueueState;
  close(): Promise<void>;
}

/** Messages in flight per consumer. */
const PREFETCH = 100;

/** This process's own queue: every instance hears every notification; gone when it is. */
export async function declareOwnQueue(channel: Channel, exchange: string): Promise<string> {
  const own = await channel.assertQueue('', { exclusive: true, autoDelete: true });
  await channel.bindQueue(own.queue, exchange, '');
  return own.queue;
}

/** Connects at once (when `amqpUrl` is set) and stays connected until `close`. */
export function makeNotificationQueue(options: {
  amqpUrl: string | undefined;
  /** Heartbeats and keepalive (common/connections.ts); the defaults without it. */
  network?: NetworkConfig | undefined;
  exchange: string;
  consumers: NotificationConsumer[];
  log: Logger;
  onConnected?: () => void;
}): NotificationQueue {
  const { amqpUrl, exchange, consumers, log } = options;
  let connection: ChannelModel | undefined;
  let connected = false;
  let closing = false;
  let retryTimer: NodeJS.Timeout | undefined;

  /** One message, whatever it holds: handled, and acknowledged exactly once. */
  const consume =
    (conn: ChannelModel, channel: Channel, consumer: NotificationConsumer) =>
    (message: ConsumeMessage | null) => {
      if (!message) {
        // The broker cancelled the consumer (its queue was deleted): start again.
        log.warn('voucher events consumer cancelled by the broker; reconnecting');
        void conn.close().catch(() => undefined);
        return;
      }
      void consumer
        .handle(message, channel)
        .catch((err: unknown) => log.error({ err }, 'voucher event handling failed'))
        .finally(() => {
          try {
            channel.ack(message);
          } catch {
            // The channel is gone; the message comes again on the next one.
          }
        });
    };

  async function open(url: string, attempt: number) {
    if (closing) return;
    try {
      const conn = await connectAmqp(url, options.network ?? readNetwork({}));
      connection = conn;
      conn.on('error', (err: Error) => log.warn({ err }, 'voucher events connection error'));
      conn.on('close', () => {
        connected = false;
        connection = undefined;
        if (!closing) schedule(url, 0);
      });
      const channel: Channel = await conn.createChannel();
      // A channel the broker closes (a protocol error) would leave the consumers dead on a
      // live connection: drop the connection, and with it come back whole.
      channel.on('error', (err: Error) => log.warn({ err }, 'voucher events channel error'));
      channel.on('close', () => {
        if (!closing) void conn.close().catch(() => undefined);
      });
      await channel.assertExchange(exchange, 'fanout', { durable: true });
      const queues: string[] = [];
      for (const consumer of consumers) queues.push(await consumer.declare(channel, exchange));
      await channel.prefetch(PREFETCH);
      for (const [index, consumer] of consumers.entries()) {
        await channel.consume(queues[index]!, consume(conn, channel, consumer));
      }
      connected = true;
      log.info({ exchange }, 'listening for voucher notifications');
      options.onConnected?.();
    } catch (err) {
      log.warn({ err, attempt }, 'voucher events: cannot connect to RabbitMQ; retrying');
      if (connection) await closeAmqp(connection);
      connection = undefined;
      schedule(url, attempt + 1);
    }
  }

  function schedule(url: string, attempt: number) {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => void open(url, attempt), backoffMs(attempt, 250, 10_000));
    retryTimer.unref();
  }

  if (amqpUrl) void open(amqpUrl, 0);

  return {
    state: () => (!amqpUrl ? 'not configured' : connected ? 'ok' : 'connecting'),
    async close() {
      closing = true;
      clearTimeout(retryTimer);
      if (connection) await closeAmqp(connection);
    },
  };
}
