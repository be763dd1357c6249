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

/** One value of a product's stock as of one change. */
export interface StockValue {
  field: 'name' | 'total' | `shard:${number}`;
  /** changeVersion() of the change it came from, or lsnKey() of a snapshot (see stockFlag.lua). */
  version: string;
  value: string;
}

/** "16/B374D848" -> "00000016B374D848": fixed width, so string order is LSN order. */
export function lsnKey(lsn: string): string {
  const [high = '0', low = '0'] = lsn.split('/');
  return high.padStart(8, '0').toUpperCase() + low.padStart(8, '0').toUpperCase();
}

/**
 * The order of a change among all changes: its transaction's commit LSN, then its position in
 * the transaction (a row updated twice in one transaction: the second write is the newer).
 */
export function changeVersion(commitLsn: string, position: number): string {
  return lsnKey(commitLsn) + position.toString(16).toUpperCase().padStart(8, '0');
}

/** lsnKey back to Postgres' form. */
export function lsnText(key: string): string {
  return `${key.slice(0, 8).replace(/^0+(?=.)/, '')}/${key.slice(8).replace(/^0+(?=.)/, '')}`;
}

/**
 * Writes values (newer version wins per value) and returns the resulting flag, or undefined
 * while the product row itself has not been seen.
 */
export async function applyStockValues(
  redis: Redis,
  productId: string,
  values: StockValue[],
  now = Date.now(),
): Promise<StockFlag | undefined> {
  const args = [productId, String(now), STOCK_CHANNEL];
  for (const v of values) args.push(v.field, v.version, v.value);
  const result = (await redis.eval(SCRIPT, 2, summaryKey(productId), valuesKey(productId), ...args)) as
    [string, string, string, string, string] | null;
  if (!result) return undefined;
  const [name, total, remaining, available, lsn] = result;
  return {
    productId,
    name,
    total: Number(total),
    remaining: Number(remaining),
    available: available === '1',
    lsn,
    updatedAt: now,
  };
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

/** The values a product's flag is computed from, by field, each with its version. */
export async function readStockValues(
  redis: Redis,
  productId: string,
): Promise<Map<string, { version: string; value: string }>> {
  const entries = await redis.hgetall(valuesKey(productId));
  const values = new Map<string, { version: string; value: string }>();
  for (const [field, entry] of Object.entries(entries)) {
    const bar = entry.indexOf('|');
    if (bar > 0) values.set(field, { version: entry.slice(0, bar), value: entry.slice(bar + 1) });
  }
  return values;
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
