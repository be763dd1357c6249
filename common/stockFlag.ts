/**
 * The stock flag in Redis/Dragonfly: what CDC writes (from the database's committed changes)
 * and the API reads. The key layout and the Lua script are the contract between the two.
 *
 * Keys use a {hash tag} so every key of one product lives on one shard of a cluster.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { packageRoot } from './paths.js';

export const STOCK_CHANNEL = 'crs:stock';
export const summaryKey = (productId: string) => `crs:stock:{${productId}}`;
export const valuesKey = (productId: string) => `crs:stock:{${productId}}:values`;

const SCRIPT = readFileSync(join(packageRoot, 'common', 'stockFlag.lua'), 'utf8');

export interface StockFlag {
  productId: string;
  name: string;
  total: number;
  remaining: number;
  available: boolean;
  /** Commit LSN (16 hex digits) of the newest change the flag includes. */
  lsn: string;
  updatedAt: number;
}

/** One value of a product's stock as of one commit. */
export interface StockValue {
  field: 'name' | 'total' | `shard:${number}`;
  lsn: string;
  value: string;
}

/** "16/B374D848" -> "00000016B374D848": fixed width, so string order is LSN order. */
export function lsnKey(lsn: string): string {
  const [high = '0', low = '0'] = lsn.split('/');
  return high.padStart(8, '0').toUpperCase() + low.padStart(8, '0').toUpperCase();
}

/** lsnKey back to Postgres' form. */
export function lsnText(key: string): string {
  return `${key.slice(0, 8).replace(/^0+(?=.)/, '')}/${key.slice(8).replace(/^0+(?=.)/, '')}`;
}

/** Writes values (newer-wins per value) and returns the resulting flag. */
export async function applyStockValues(
  redis: Redis,
  productId: string,
  values: StockValue[],
  now = Date.now(),
): Promise<void> {
  const args = [productId, String(now), STOCK_CHANNEL];
  for (const v of values) args.push(v.field, v.lsn, v.value);
  await redis.eval(SCRIPT, 2, summaryKey(productId), valuesKey(productId), ...args);
}

export async function readStockFlag(redis: Redis, productId: string): Promise<StockFlag | undefined> {
  const fields = await redis.hgetall(summaryKey(productId));
  if (!fields['lsn'] || fields['remaining'] === undefined || fields['total'] === undefined) return undefined;
  return {
    productId,
    name: fields['name'] ?? productId,
    total: Number(fields['total']),
    remaining: Number(fields['remaining']),
    available: fields['available'] === '1',
    lsn: fields['lsn'],
    updatedAt: Number(fields['updatedAt'] ?? 0),
  };
}

/** Parses a stock announcement from the pub/sub channel; undefined when malformed. */
export function parseStockAnnouncement(message: string): Omit<StockFlag, 'updatedAt'> | undefined {
  try {
    const parsed = JSON.parse(message) as Record<string, unknown>;
    if (
      typeof parsed['productId'] !== 'string' ||
      typeof parsed['name'] !== 'string' ||
      typeof parsed['total'] !== 'number' ||
      typeof parsed['remaining'] !== 'number' ||
      typeof parsed['available'] !== 'boolean' ||
      typeof parsed['lsn'] !== 'string'
    ) {
      return undefined;
    }
    return parsed as unknown as Omit<StockFlag, 'updatedAt'>;
  } catch {
    return undefined;
  }
}
