/**
 * Where the API reads stock: the stock flag CDC keeps in Redis/Dragonfly, falling back to
 * Postgres when Redis is unreachable or has no entry for the product. While Redis fails, it is
 * skipped for a second at a time (a small circuit breaker) so requests do not each pay for a
 * timeout.
 *
 * It also decides when an order may be refused without asking Postgres (a flash sale must
 * not hammer the database after sell-out): only when the flag says sold out, the order has no
 * client-chosen id (a client-chosen id may be a retry of an order that succeeded, which only
 * Postgres can recognise), and this process asked Postgres about this product less than a
 * second ago. So a stale "sold out" flag heals within a second even if CDC is down: the first
 * order after that second goes to Postgres, which is the only judge.
 *
 * For that decision the flag is read at most once per product every 100 ms and shared by the
 * orders that arrive meanwhile (they await the same read): after a flash sale sells out, tens
 * of thousands of refusals a second cost a handful of Redis reads instead of one each, which
 * would queue behind each other and time out just when it matters.
 */
import type { Redis } from 'ioredis';
import type { Pool } from '../../common/db.js';
import type { Logger } from '../../common/log.js';
import { readStockFlag, type StockFlag } from '../../common/stockFlag.js';
import { getStock, type Stock } from '../../sql/stock.js';

export interface StockSource {
  get(productId: string): Promise<(Stock & { source: 'redis' | 'postgres' }) | undefined>;
  /** True when this order may be answered out_of_stock without calling Postgres. */
  refuseWithoutDatabase(productId: string, hasClientOrderId: boolean): Promise<boolean>;
  /** Postgres reserved an order of this product: a "sold out" flag read before is wrong. */
  reserved(productId: string): void;
  /** Redis state for readiness reports. */
  redisState(): 'ok' | 'not configured' | 'failing';
}

const BREAKER_MS = 1_000;
const PROBE_INTERVAL_MS = 1_000;
const SHARED_READ_MS = 100;
/** Product ids come from requests: the shared reads are forgotten beyond this many. */
const SHARED_READS_MAX = 1_000;

export function makeStockSource(deps: {
  pool: Pool;
  redis: Redis | undefined;
  log: Logger;
  now?: () => number;
}): StockSource {
  const now = deps.now ?? Date.now;
  let redisDownUntil = 0;
  const lastProbe = new Map<string, number>();
  /** The LSN of the "sold out" flag each product's last probe went past, until it is judged. */
  const probedSoldOut = new Map<string, string>();
  /** Flags (by LSN) that Postgres contradicted by reserving an order. */
  const contradicted = new Map<string, string>();
  const isContradicted = (flag: StockFlag) => contradicted.get(flag.productId) === flag.lsn;
  const sharedReads = new Map<string, { at: number; flag: ReturnType<typeof fromRedis> }>();

  async function fromRedis(productId: string) {
    if (!deps.redis || now() < redisDownUntil) return undefined;
    try {
      return await readStockFlag(deps.redis, productId);
    } catch (err) {
      if (now() >= redisDownUntil)
        deps.log.warn({ err }, 'stock flag unreadable; using Postgres for a second');
      redisDownUntil = now() + BREAKER_MS;
      return undefined;
    }
  }

  function sharedRead(productId: string) {
    const at = now();
    const recent = sharedReads.get(productId);
    if (recent && at - recent.at < SHARED_READ_MS) return recent.flag;
    if (sharedReads.size >= SHARED_READS_MAX) sharedReads.clear();
    const flag = fromRedis(productId);
    sharedReads.set(productId, { at, flag });
    return flag;
  }

  return {
    async get(productId) {
      const flag = await fromRedis(productId);
      if (flag && !isContradicted(flag)) {
        const { productId: id, name, total, remaining, available } = flag;
        return { productId: id, name, total, remaining, available, source: 'redis' };
      }
      const stock = await getStock(deps.pool, productId);
      return stock && { ...stock, source: 'postgres' };
    },
    async refuseWithoutDatabase(productId, hasClientOrderId) {
      if (hasClientOrderId) return false;
      const flag = await sharedRead(productId);
      if (!flag || flag.available || isContradicted(flag)) return false;
      const at = now();
      if (at - (lastProbe.get(productId) ?? 0) >= PROBE_INTERVAL_MS) {
        if (lastProbe.size >= SHARED_READS_MAX) lastProbe.clear();
        if (probedSoldOut.size >= SHARED_READS_MAX) probedSoldOut.clear();
        lastProbe.set(productId, at);
        probedSoldOut.set(productId, flag.lsn);
        return false;
      }
      return true;
    },
    reserved(productId) {
      const lsn = probedSoldOut.get(productId);
      if (lsn === undefined) return;
      probedSoldOut.delete(productId);
      if (contradicted.size >= SHARED_READS_MAX) contradicted.clear();
      if (contradicted.get(productId) !== lsn) {
        deps.log.warn(
          { productId, lsn },
          'stock flag said sold out, Postgres reserved an order; not trusted',
        );
      }
      contradicted.set(productId, lsn);
    },
    redisState() {
      if (!deps.redis) return 'not configured';
      return now() < redisDownUntil || deps.redis.status !== 'ready' ? 'failing' : 'ok';
    },
  };
}
