/**
 * The change feed: every decoded change, published as a versioned JSON event to the RabbitMQ
 * topic exchange crs.changes (routing key = event type), persistent, with publisher confirms.
 * The consumer acknowledges an LSN only after the broker confirmed every event up to it, so a
 * feed subscriber misses nothing; after a crash events are published again (at least once:
 * deduplicate on the event id).
 */
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import type { NetworkConfig } from '../common/config.js';
import { closeAmqp, connectAmqp } from '../common/connections.js';
import { withDeadline } from '../common/deadline.js';
import type { Logger } from '../common/log.js';
import type { ChangeEvent } from './effects.js';

export const CHANGES_EXCHANGE = 'crs.changes';
const CONFIRM_TIMEOUT_MS = 10_000;

export interface ChangeFeed {
  /** Publishes and waits for the broker's confirms; throws if any was not confirmed. */
  publish(events: ChangeEvent[]): Promise<void>;
  close(): Promise<void>;
}

export function makeChangeFeed(url: string, log: Logger, network: NetworkConfig): ChangeFeed {
  let connection: ChannelModel | undefined;
  let channel: ConfirmChannel | undefined;

  async function open(): Promise<ConfirmChannel> {
    if (channel) return channel;
    const conn = await connectAmqp(url, network);
    conn.on('error', (err: Error) => log.warn({ err }, 'change feed connection error'));
    conn.on('close', () => {
      connection = undefined;
      channel = undefined;
    });
    const ch = await conn.createConfirmChannel();
    ch.on('error', (err: Error) => log.warn({ err }, 'change feed channel error'));
    ch.on('close', () => {
      channel = undefined;
    });
    await ch.assertExchange(CHANGES_EXCHANGE, 'topic', { durable: true });
    connection = conn;
    channel = ch;
    return ch;
  }

  return {
    async publish(events) {
      if (events.length === 0) return;
      const ch = await open();
      try {
        for (const event of events) {
          ch.publish(CHANGES_EXCHANGE, event.type, Buffer.from(JSON.stringify(event)), {
            persistent: true,
            contentType: 'application/json',
            messageId: event.id,
            type: event.type,
            timestamp: Math.floor(Date.parse(event.commitTime) / 1000),
          });
        }
        // A broker that takes messages and never confirms them (blocked by a memory or disk
        // alarm, or hung) must not hold the batch for ever: past this, the publish fails and
        // the channel is dropped.
        await withDeadline(
          ch.waitForConfirms(),
          CONFIRM_TIMEOUT_MS,
          `no publisher confirms within ${CONFIRM_TIMEOUT_MS} ms`,
        );
      } catch (err) {
        // The channel may be half-broken; the next publish opens a fresh one.
        channel = undefined;
        if (connection) await closeAmqp(connection);
        connection = undefined;
        throw err;
      }
    },
    async close() {
      if (connection) await closeAmqp(connection);
      connection = undefined;
      channel = undefined;
    },
  };
}
