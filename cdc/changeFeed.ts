/**
 * The change feed: every decoded change, published as a CloudEvent (cdc/cloudEvents.ts, JSON,
 * structured mode) to the RabbitMQ topic exchange crs.changes (routing key = the change, e.g.
 * order.created), persistent, with publisher confirms. The consumer acknowledges an LSN only
 * after the broker confirmed every event up to it, so a feed subscriber misses nothing; after a
 * crash events are published again (at least once: deduplicate on the event id).
 *
 * The exchange also feeds a RabbitMQ stream (CHANGE_STREAM, retention by age and size), declared
 * and bound here before anything is published, so it holds every event since: a consumer can
 * replay from the first retained event, a time or an offset (cdc/changeStream.ts).
 */
import type { Channel, ChannelModel, ConfirmChannel } from 'amqplib';
import type { ChangeFeedConfig, ChangeStreamConfig, NetworkConfig } from '../common/config.js';
import { closeAmqp, connectAmqp } from '../common/connections.js';
import { withDeadline } from '../common/deadline.js';
import type { Logger } from '../common/log.js';
import { CLOUDEVENTS_JSON, positionsInTransactions, toCloudEvent } from './cloudEvents.js';
import type { ChangeEvent } from './effects.js';

export const CHANGES_EXCHANGE = 'crs.changes';
const CONFIRM_TIMEOUT_MS = 10_000;

export interface ChangeFeed {
  /** Publishes and waits for the broker's confirms; throws if any was not confirmed. */
  publish(events: ChangeEvent[]): Promise<void>;
  close(): Promise<void>;
}

/** The stream's declaration: a durable stream queue with its retention. */
export const streamArguments = (stream: ChangeStreamConfig) => ({
  'x-queue-type': 'stream',
  'x-max-age': stream.maxAge,
  'x-max-length-bytes': stream.maxBytes,
});

/**
 * Declares the stream (when missing) and binds it to every change. On a side channel: a stream
 * that exists with other retention arguments makes the declaration fail with 406 and close its
 * channel; it is kept as it is (RabbitMQ changes a queue's retention by policy, not by
 * redeclaring it) and bound all the same.
 */
async function declareStream(
  connection: ChannelModel,
  stream: ChangeStreamConfig & { name: string },
  log: Logger,
) {
  let side: Channel = await connection.createChannel();
  side.on('error', () => undefined);
  try {
    await side.assertQueue(stream.name, { durable: true, arguments: streamArguments(stream) });
  } catch (err) {
    if ((err as { code?: number }).code !== 406) throw err;
    log.warn(
      { stream: stream.name, err },
      'the change stream exists with other arguments; kept as it is (set its retention with a policy)',
    );
    side = await connection.createChannel();
    side.on('error', () => undefined);
  }
  await side.bindQueue(stream.name, CHANGES_EXCHANGE, '#');
  await side.close().catch(() => undefined);
}

export function makeChangeFeed(
  url: string,
  log: Logger,
  network: NetworkConfig,
  feed: ChangeFeedConfig,
): ChangeFeed {
  let connection: ChannelModel | undefined;
  let channel: ConfirmChannel | undefined;
  const stream = feed.stream.name ? { ...feed.stream, name: feed.stream.name } : undefined;

  async function open(): Promise<ConfirmChannel> {
    if (channel) return channel;
    const conn = await connectAmqp(url, network);
    conn.on('error', (err: Error) => log.warn({ err }, 'change feed connection error'));
    conn.on('close', () => {
      connection = undefined;
      channel = undefined;
    });
    try {
      const ch = await conn.createConfirmChannel();
      ch.on('error', (err: Error) => log.warn({ err }, 'change feed channel error'));
      ch.on('close', () => {
        channel = undefined;
      });
      await ch.assertExchange(CHANGES_EXCHANGE, 'topic', { durable: true });
      if (stream) await declareStream(conn, stream, log);
      connection = conn;
      channel = ch;
      return ch;
    } catch (err) {
      await closeAmqp(conn);
      throw err;
    }
  }

  return {
    async publish(events) {
      if (events.length === 0) return;
      const ch = await open();
      try {
        const positions = positionsInTransactions(events);
        events.forEach((event, index) => {
          const cloudEvent = toCloudEvent(event, positions[index] ?? 0, feed.source);
          ch.publish(CHANGES_EXCHANGE, event.type, Buffer.from(cloudEvent.toString()), {
            persistent: true,
            contentType: CLOUDEVENTS_JSON,
            messageId: event.id,
            type: cloudEvent.type,
            appId: 'crs-cdc',
            timestamp: Math.floor(Date.parse(event.commitTime) / 1000),
          });
        });
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
