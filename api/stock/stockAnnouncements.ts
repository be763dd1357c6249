/**
 * Live stock for this API instance: CDC publishes every change of a product's stock flag on
 * the Redis channel crs:stock (common/stockFlag.lua); one subscriber connection here fans
 * them out to whoever watches that product (the page's SSE stream). Announcements older than
 * one already passed on (by commit LSN) are dropped.
 *
 * Without Redis, or while it is unreachable, the instance asks Postgres instead, once per
 * POLL_MS per watched product (not per watcher), so open pages still follow the stock.
 */
import { Redis } from 'ioredis';
import type { Pool } from '../../common/db.js';
import { readNetwork, type NetworkConfig } from '../../common/config.js';
import { redisSocketOptions } from '../../common/connections.js';
import type { Logger } from '../../common/log.js';
import { STOCK_CHANNEL, parseStockAnnouncement } from '../../common/stockFlag.js';
import { getStock, type Stock } from '../../sql/stock.js';

export type StockListener = (stock: Stock) => void;

export interface StockAnnouncements {
  /** Calls `listener` on every change of the product's stock; returns the unsubscribe. */
  listen(productId: string, listener: StockListener): () => void;
  close(): Promise<void>;
}

const POLL_MS = 2_000;

export function makeStockAnnouncements(deps: {
  redisUrl: string | undefined;
  network?: NetworkConfig;
  pool: Pool;
  log: Logger;
  pollMs?: number;
}): StockAnnouncements {
  const listeners = new Map<string, Set<StockListener>>();
  /** Per product: the newest LSN passed on (from Redis) and the last stock (from either). */
  const lastLsn = new Map<string, string>();
  const lastStock = new Map<string, string>();

  const dispatch = (stock: Stock) => {
    const seen = `${stock.name}\0${stock.total}\0${stock.remaining}`;
    if (lastStock.get(stock.productId) === seen) return;
    lastStock.set(stock.productId, seen);
    for (const listener of listeners.get(stock.productId) ?? []) listener(stock);
  };

  // Subscribed once; ioredis reconnects and re-subscribes by itself after a drop.
  const subscriber = deps.redisUrl
    ? new Redis(deps.redisUrl, {
        ...redisSocketOptions(deps.network ?? readNetwork({})),
        maxRetriesPerRequest: null,
      })
    : undefined;
  subscriber?.on('error', (err: Error) => deps.log.debug({ err }, 'stock subscriber: redis error'));
  subscriber?.on('message', (_channel: string, message: string) => {
    const announced = parseStockAnnouncement(message);
    if (!announced) {
      deps.log.warn({ message: message.slice(0, 200) }, 'malformed stock announcement skipped');
      return;
    }
    if (!listeners.has(announced.productId)) return;
    const previous = lastLsn.get(announced.productId);
    if (previous !== undefined && announced.lsn < previous) return;
    lastLsn.set(announced.productId, announced.lsn);
    const { productId, name, total, remaining, available } = announced;
    dispatch({ productId, name, total, remaining, available });
  });
  subscriber
    ?.subscribe(STOCK_CHANNEL)
    .catch((err: unknown) => deps.log.warn({ err }, 'stock announcements: subscribe failed; polling'));

  // The fallback: only while Redis cannot tell us.
  const poll = setInterval(() => {
    if (listeners.size === 0 || subscriber?.status === 'ready') return;
    for (const productId of listeners.keys()) {
      getStock(deps.pool, productId).then(
        (stock) => stock && dispatch(stock),
        (err: unknown) => deps.log.debug({ err }, 'stock poll failed'),
      );
    }
  }, deps.pollMs ?? POLL_MS);
  poll.unref();

  return {
    listen(productId, listener) {
      let set = listeners.get(productId);
      if (!set) listeners.set(productId, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) {
          listeners.delete(productId);
          lastLsn.delete(productId);
          lastStock.delete(productId);
        }
      };
    },
    async close() {
      clearInterval(poll);
      listeners.clear();
      subscriber?.disconnect();
    },
  };
}
