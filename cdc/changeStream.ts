/**
 * Reading the change feed back from its RabbitMQ stream (CHANGE_STREAM), from any point: the
 * first retained event, the last, only new ones, a stream offset, or a time, as Kafka consumers
 * do (RabbitMQ's x-stream-offset). For `crs cdc tail`, the tests and the guide.
 *
 * Without `follow` the read ends at the stream's end as it was when the read began: the end is
 * found first by a consumer at `last` (the stream's last chunk), so a busy feed does not keep a
 * one-off read going for ever.
 */
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import type { NetworkConfig } from '../common/config.js';
import { closeAmqp, connectAmqp } from '../common/connections.js';
import { changeOf, parseFeedEvent, type FeedEvent } from './cloudEvents.js';

export type StreamStart = 'first' | 'last' | 'next' | { offset: number } | { time: Date };

/** `--from`: first, last, next, an offset (a non-negative integer) or an ISO 8601 time. */
export function parseStreamStart(text: string): StreamStart {
  if (text === 'first' || text === 'last' || text === 'next') return text;
  if (/^[0-9]{1,15}$/.test(text)) return { offset: Number(text) };
  if (/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) {
    const time = new Date(text);
    if (!Number.isNaN(time.getTime())) return { time };
  }
  throw new TypeError(
    `"${text}" is not a place in the stream: first, last, next, an offset (0, 1, ...) or an ISO 8601 time`,
  );
}

/** The x-stream-offset argument of a start (a time is an AMQP timestamp, in seconds). */
function offsetArgument(start: StreamStart): unknown {
  if (typeof start === 'string') return start;
  if ('offset' in start) return start.offset;
  return { '!': 'timestamp', value: Math.floor(start.time.getTime() / 1000) };
}

/** AMQP topic matching: `*` is one word, `#` zero or more (order.*, #.changed). */
export function topicMatches(pattern: string, key: string): boolean {
  const match = (p: string[], k: string[]): boolean => {
    if (p.length === 0) return k.length === 0;
    const [head, ...rest] = p;
    if (head === '#') return match(rest, k) || (k.length > 0 && match(p, k.slice(1)));
    return k.length > 0 && (head === '*' || head === k[0]) && match(rest, k.slice(1));
  };
  return match(pattern.split('.'), key.split('.'));
}

export interface StreamRecord {
  /** The message's offset in the stream: pass it (or the next one) as `from` to resume. */
  offset: number;
  event: FeedEvent;
}

export interface ReadOptions {
  url: string;
  network: NetworkConfig;
  stream: string;
  from: StreamStart;
  /** Keep reading new events until `signal` aborts; else stop at the end as of the start. */
  follow: boolean;
  /** Topic patterns over the change (order.created, order.*); none: every event. */
  types?: string[];
  onEvent(record: StreamRecord): void | Promise<void>;
  /** A message that is not a valid CloudEvent of the feed: reported, skipped. */
  onInvalid?(offset: number, reason: string): void;
  signal?: AbortSignal;
  /** Called once the reading consumer is attached (new events from here on will be read). */
  onReady?(): void;
  /** How long a read without `follow` waits for a first message before deciding there is none. */
  quietMs?: number;
}

const offsetOf = (message: ConsumeMessage) => Number(message.properties.headers?.['x-stream-offset']);

/** Consumes from `start`, calling `each` per message until `each` returns false or `done` resolves. */
async function consume(
  channel: Channel,
  stream: string,
  start: StreamStart,
  each: (message: ConsumeMessage) => Promise<boolean> | boolean,
  done: Promise<void>,
  onReady?: () => void,
): Promise<void> {
  // A stream consumer must acknowledge, and its prefetch is its credit: without one, RabbitMQ
  // refuses the consumer.
  await channel.prefetch(500);
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  let chain = Promise.resolve(true);
  let failure: unknown;
  const { consumerTag } = await channel.consume(
    stream,
    (message) => {
      if (!message) return finish();
      chain = chain
        .then(async (going) => {
          if (!going) return false;
          const more = await each(message);
          channel.ack(message);
          if (!more) finish();
          return more;
        })
        .catch((err: unknown) => {
          failure ??= err;
          finish();
          return false;
        });
    },
    { noAck: false, arguments: { 'x-stream-offset': offsetArgument(start) } },
  );
  onReady?.();
  await Promise.race([finished, done]);
  await channel.cancel(consumerTag).catch(() => undefined);
  await chain;
  if (failure !== undefined) throw failure;
}

/** Resolves after `ms` without a call to `touch`, or when `signal` aborts. */
function quiet(ms: number, signal?: AbortSignal) {
  let timer: NodeJS.Timeout;
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(resolve, ms);
  };
  touch();
  signal?.addEventListener('abort', () => resolve(), { once: true });
  return { promise, touch, stop: () => clearTimeout(timer) };
}

/** The stream's last offset now, or undefined when it is empty. */
async function endOffset(
  connection: ChannelModel,
  stream: string,
  quietMs: number,
): Promise<number | undefined> {
  const channel = await connection.createChannel();
  let end: number | undefined;
  // The last chunk arrives at once; a pause means it has all arrived.
  const idle = quiet(quietMs);
  await consume(
    channel,
    stream,
    'last',
    (message) => {
      end = Math.max(end ?? -1, offsetOf(message));
      idle.touch();
      return true;
    },
    idle.promise,
  );
  idle.stop();
  await channel.close().catch(() => undefined);
  return end;
}

/** Reads the stream as asked; resolves with how many events were delivered and the last offset. */
export async function readChangeStream(options: ReadOptions): Promise<{ read: number; lastOffset?: number }> {
  const quietMs = options.quietMs ?? 1_000;
  const connection = await connectAmqp(options.url, options.network);
  connection.on('error', () => undefined);
  let read = 0;
  let lastOffset: number | undefined;
  try {
    // checkQueue: a clear error when there is no such stream (instead of a consumer refused).
    const probe = await connection.createChannel();
    probe.on('error', () => undefined);
    await probe.checkQueue(options.stream);
    await probe.close();

    const end = options.follow
      ? undefined
      : await endOffset(connection, options.stream, Math.min(quietMs, 300));
    if (!options.follow && end === undefined) return { read };
    const channel = await connection.createChannel();
    const stop = new Promise<void>((resolve) => {
      if (options.signal?.aborted) resolve();
      options.signal?.addEventListener('abort', () => resolve(), { once: true });
    });
    // Without follow, a start past the end delivers nothing: stop after a quiet spell too.
    const idle = options.follow ? undefined : quiet(quietMs, options.signal);
    await consume(
      channel,
      options.stream,
      options.from,
      async (message) => {
        idle?.touch();
        const offset = offsetOf(message);
        if (end !== undefined && offset > end) return false;
        lastOffset = offset;
        let event: FeedEvent;
        try {
          event = parseFeedEvent(message.content);
          if (!changeOf(event.type)) throw new TypeError(`unknown type ${event.type}`);
        } catch (err) {
          options.onInvalid?.(offset, (err as Error).message);
          return end === undefined || offset < end;
        }
        const change = changeOf(event.type) ?? '';
        if (!options.types?.length || options.types.some((pattern) => topicMatches(pattern, change))) {
          read += 1;
          await options.onEvent({ offset, event });
        }
        return end === undefined || offset < end;
      },
      idle ? Promise.race([idle.promise, stop]) : stop,
      options.onReady,
    );
    idle?.stop();
    await channel.close().catch(() => undefined);
    return lastOffset === undefined ? { read } : { read, lastOffset };
  } finally {
    await closeAmqp(connection);
  }
}
