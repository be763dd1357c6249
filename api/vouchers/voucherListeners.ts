/**
 * Who waits here for which order's voucher, and the voucher events heard while no one waited.
 *
 * A client opens its stream after its order's 201; under load the voucher can be stored in
 * between, its event gone by and not yet recorded in the database. Such events are remembered
 * for a while, unconfirmed (most are never asked for, and each confirmation is a HEAD on the
 * bucket), and handed to a listener that comes for them once the bucket confirms the object.
 */
import type { ConfirmStored } from '../../bucket/confirmStored.js';
import type { VoucherStored } from '../../bucket/minioEvent.js';
import type { Logger } from '../../common/log.js';

export type VoucherListener = (event: VoucherStored) => void;

export interface VoucherListeners {
  /**
   * Calls `listener` when the voucher of `orderId` is delivered, or at once (after the bucket
   * confirms it) when its event was remembered in the last 30 s; returns the unsubscribe.
   */
  listen(orderId: string, listener: VoucherListener): () => void;
  /** Whether anyone here waits for the order. */
  has(orderId: string): boolean;
  /** The orders someone here waits for. */
  waiting(): string[];
  /** Hands a confirmed event to the order's listeners; one that throws is logged, not fatal. */
  deliver(event: VoucherStored): void;
  /** Keeps an event no one waited for, for a listener that comes a moment later. */
  remember(event: VoucherStored): void;
}

const RECENT_EVENTS_MAX = 10_000;
const RECENT_EVENTS_MS = 30_000;

export function makeVoucherListeners(options: { confirm: ConfirmStored; log: Logger }): VoucherListeners {
  const { confirm, log } = options;
  const listeners = new Map<string, Set<VoucherListener>>();
  const recent = new Map<string, { event: VoucherStored; at: number }>();

  /** Delivers a remembered event to a new listener once the bucket confirms it. */
  async function replayRecent(orderId: string, listener: VoucherListener) {
    const seen = recent.get(orderId);
    if (!seen || Date.now() - seen.at > RECENT_EVENTS_MS) return;
    const reading = await confirm(seen.event);
    if (reading.ok && listeners.get(orderId)?.has(listener)) listener(reading.event);
  }

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
    has: (orderId) => listeners.has(orderId),
    waiting: () => [...listeners.keys()],
    deliver(event) {
      for (const listener of listeners.get(event.orderId) ?? []) {
        try {
          listener(event);
        } catch (err) {
          log.warn({ err, orderId: event.orderId }, 'voucher listener failed');
        }
      }
    },
    remember(event) {
      // Re-inserted, so the map's order is by time heard and the oldest goes first.
      recent.delete(event.orderId);
      recent.set(event.orderId, { event, at: Date.now() });
      if (recent.size > RECENT_EVENTS_MAX) recent.delete(recent.keys().next().value as string);
    },
  };
}
