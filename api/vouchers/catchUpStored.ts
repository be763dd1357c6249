/**
 * While RabbitMQ was away, or before this instance's queue existed, a voucher's event went to
 * no one. After each (re)connect, the database is asked which of the orders someone here waits
 * for have their voucher stored, and those are delivered.
 */
import type { VoucherStored } from '../../bucket/minioEvent.js';
import type { Logger } from '../../common/log.js';
import type { VoucherListeners } from './voucherListeners.js';

/** The vouchers already stored among these orders (from the database). */
export type StoredAmong = (orderIds: string[]) => Promise<VoucherStored[]>;

/** Delivers what was stored while no event could reach us; never throws (it logs). */
export function catchUpStored(listeners: VoucherListeners, storedAmong: StoredAmong, log: Logger): void {
  const waiting = listeners.waiting();
  if (waiting.length === 0) return;
  storedAmong(waiting)
    .then((stored) => {
      if (stored.length > 0) log.info({ vouchers: stored.length }, 'vouchers stored while unheard delivered');
      for (const event of stored) listeners.deliver(event);
    })
    .catch((err: unknown) => log.warn({ err }, 'could not look for vouchers stored while unheard'));
}
