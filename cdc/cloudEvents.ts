/**
 * The change feed's envelope: CloudEvents 1.0 (built and validated with the official SDK), in
 * structured mode, JSON. What a consumer reads is the event's own JSON; the AMQP message adds
 * nothing it needs (docs/change-feed.md).
 *
 *   type        crs.<change>.v2 (order.created, voucher.stored, order.redeemed, stock.changed);
 *               the RabbitMQ routing key is the change without prefix and version
 *   id          stable across replays (commit LSN and position): deduplicate on it
 *   source      which deployment and database (CHANGE_FEED_SOURCE)
 *   subject     the order id, or the product id for stock.changed
 *   time        the transaction's commit time
 *   dataschema  the JSON Schema of data (cdc/schemas/<change>.v2.json)
 *   commitlsn   extension: the transaction's commit LSN in Postgres (X/Y hex)
 *   txposition  extension: the event's position among its transaction's events (0, 1, ...)
 *
 * (commitlsn, txposition) increases along the feed: it orders events as Postgres committed them.
 */
import { CloudEvent } from 'cloudevents';
import type { ChangeEvent, ChangeType } from './effects.js';

export const CHANGE_TYPES: readonly ChangeType[] = [
  'order.created',
  'voucher.stored',
  'order.redeemed',
  'stock.changed',
];
export const FEED_VERSION = 'v2';
/** The media type of a structured-mode CloudEvent in JSON (the AMQP content type). */
export const CLOUDEVENTS_JSON = 'application/cloudevents+json';

export const cloudEventType = (change: ChangeType) => `crs.${change}.${FEED_VERSION}`;
export const dataSchemaId = (change: ChangeType) =>
  `https://crs.example/schemas/${change}.${FEED_VERSION}.json`;

/** The change a CloudEvent type names (crs.order.created.v2 -> order.created), if it is one. */
export function changeOf(type: string): ChangeType | undefined {
  return CHANGE_TYPES.find((change) => cloudEventType(change) === type);
}

export type FeedEvent = CloudEvent<Record<string, unknown>>;

/** The CloudEvent of one change; `position` is its place among its transaction's events. */
export function toCloudEvent(event: ChangeEvent, position: number, source: string): FeedEvent {
  const subject = event.type === 'stock.changed' ? event.data['productId'] : event.data['orderId'];
  return new CloudEvent({
    specversion: '1.0',
    id: event.id,
    source,
    type: cloudEventType(event.type),
    subject: String(subject),
    time: event.commitTime,
    datacontenttype: 'application/json',
    dataschema: dataSchemaId(event.type),
    commitlsn: event.lsn,
    txposition: position,
    data: event.data,
  });
}

/** Each event's position among the events of its transaction, for events in feed order. */
export function positionsInTransactions(events: readonly ChangeEvent[]): number[] {
  const next = new Map<string, number>();
  return events.map((event) => {
    const position = next.get(event.lsn) ?? 0;
    next.set(event.lsn, position + 1);
    return position;
  });
}

/**
 * A feed message's body as a CloudEvent, validated by the SDK (throws on anything else). For
 * consumers: crs cdc tail, the tests, the guide's example.
 */
export function parseFeedEvent(body: Buffer | string): FeedEvent {
  const parsed: unknown = JSON.parse(body.toString());
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new TypeError('a change feed message is a JSON object (a structured CloudEvent)');
  }
  return new CloudEvent(parsed as Record<string, unknown>);
}
