/**
 * MinIO's bucket notification (its AMQP target's message: `EventName`, `Key`, `Records[]`) read
 * into the one fact the system cares about: a voucher was stored. Pure: no I/O, nothing thrown.
 *
 * Anyone who can publish to the exchange can send anything, so nothing in a message is trusted:
 * whatever is not MinIO's object-created event for a voucher key is a rejection with a reason
 * precise enough to log and to keep beside the message. Whether the object is really in the
 * bucket is another step (bucket/confirmStored.ts).
 */
import { orderIdOfKey } from '../common/objectStore.js';

/** A voucher object stored in a bucket, as its notification announced it. */
export interface VoucherStored {
  orderId: string;
  key: string;
  bucket: string;
  eventTime: string;
}

/** Why a message is not a voucher's object-created event (stable: kept in a header, tested). */
export type RejectionReason =
  | 'too large'
  | 'content type is not application/json'
  | 'not JSON'
  | 'no event record'
  | 'not an object-created event'
  | 'no bucket or key'
  | 'key not escaped as MinIO escapes it'
  | 'not a voucher key'
  | 'another bucket'
  | 'object not in the bucket';

export type NotificationReading = { ok: true; event: VoucherStored } | { ok: false; reason: RejectionReason };

/** MinIO's event for one object is about 1.5 KB; a message far bigger is not one. */
export const MAX_NOTIFICATION_BYTES = 64 * 1024;

export const rejected = (reason: RejectionReason): NotificationReading => ({ ok: false, reason });

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** An event time worth passing on: a short, parseable timestamp; else the time it was read. */
const eventTimeOf = (value: unknown) =>
  typeof value === 'string' && value.length <= 40 && !Number.isNaN(Date.parse(value))
    ? value
    : new Date().toISOString();

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
  return { ok: true, event: { orderId, key, bucket, eventTime: eventTimeOf(record['eventTime']) } };
}

/** Reads a MinIO bucket notification; undefined when it is not a voucher's object-created. */
export function parseBucketNotification(content: Buffer): VoucherStored | undefined {
  const reading = readBucketNotification(content);
  return reading.ok ? reading.event : undefined;
}
