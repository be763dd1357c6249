/**
 * A well-formed notification is believed only once its object is seen in our bucket (a HEAD
 * with the reader's key), so a forged event for an order without a voucher reaches no one.
 */
import { withDeadline } from '../common/deadline.js';
import type { Logger } from '../common/log.js';
import type { ObjectStore } from '../common/objectStore.js';
import { rejected, type NotificationReading, type VoucherStored } from './minioEvent.js';

/** How long a notification waits for the bucket to answer (its message is held meanwhile). */
export const CONFIRM_TIMEOUT_MS = 2_000;
/** Objects remembered as seen in the bucket (a voucher, once stored, stays). */
const CONFIRMED_KEYS_MAX = 2_000;

/** The event itself once its object is seen in the bucket; else why not. */
export type ConfirmStored = (event: VoucherStored) => Promise<NotificationReading>;

/**
 * Whether the object is in the bucket. Errors other than "no such key", and a bucket that does
 * not answer in time, throw.
 */
export async function isStored(store: ObjectStore, key: string): Promise<boolean> {
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

/**
 * Confirms events against `store`; without a store (none configured) every event is believed.
 * A bucket that cannot be asked now does not lose a real voucher's notification: the event is
 * believed and a warning logged (a download is authorized and looked up on its own).
 */
export function makeStoredConfirmer(options: { store: ObjectStore | undefined; log: Logger }): ConfirmStored {
  const { store, log } = options;
  // The same event often comes twice at the same moment (an instance's own queue and the
  // relay): one HEAD answers both. Only a key seen stored stays remembered.
  const looks = new Map<string, Promise<boolean>>();
  const look = (objectStore: ObjectStore, key: string) => {
    let pending = looks.get(key);
    if (!pending) {
      pending = isStored(objectStore, key);
      looks.set(key, pending);
      if (looks.size > CONFIRMED_KEYS_MAX) looks.delete(looks.keys().next().value as string);
      pending.then(
        (stored) => stored || looks.delete(key),
        () => looks.delete(key),
      );
    }
    return pending;
  };

  return async (event) => {
    if (!store) return { ok: true, event };
    if (event.bucket !== store.bucket) return rejected('another bucket');
    try {
      if (!(await look(store, event.key))) return rejected('object not in the bucket');
    } catch (err) {
      log.warn({ err, orderId: event.orderId }, 'voucher event not confirmed in the bucket');
    }
    return { ok: true, event };
  };
}
