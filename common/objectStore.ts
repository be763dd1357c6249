/**
 * The vouchers bucket, through the `minio` client: MinIO in production, the local S3 store
 * (devstack/s3Store.ts) on a laptop and in tests, with the same code path.
 */
import { Client } from 'minio';
import type { Readable } from 'node:stream';
import type { ObjectStoreConfig } from './config.js';
import { ORDER_ID_BODY } from './identifiers.js';

/** Where an order's voucher is stored: derived from the order id, never guessable alone. */
export const voucherKey = (orderId: string) => `orders/${orderId}.pdf`;

const VOUCHER_KEY = new RegExp(`^orders/(${ORDER_ID_BODY})\\.pdf$`);

/** The order id of a voucher object key, or undefined if the key is not a voucher's. */
export function orderIdOfKey(key: string): string | undefined {
  const match = VOUCHER_KEY.exec(key);
  return match?.[1];
}

export interface ObjectStore {
  client: Client;
  bucket: string;
  /**
   * Stores an order's voucher unless one is stored already (`If-None-Match: *`): a voucher is
   * written once and announced once, however many renderers got to render it (a job taken
   * over from a renderer cut off after its upload). `created` is false when it was there.
   */
  putVoucher(orderId: string, pdf: Buffer): Promise<{ key: string; created: boolean }>;
  getVoucher(key: string): Promise<Readable>;
}

export function makeObjectStore(config: ObjectStoreConfig): ObjectStore {
  const url = new URL(config.endpoint);
  const client = new Client({
    endPoint: url.hostname,
    port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
    useSSL: url.protocol === 'https:',
    accessKey: config.accessKey,
    secretKey: config.secretKey,
    region: config.region,
    pathStyle: true,
  });
  return {
    client,
    bucket: config.bucket,
    async putVoucher(orderId, pdf) {
      const key = voucherKey(orderId);
      // A buffer of known length: one PUT, no multipart.
      try {
        await client.putObject(config.bucket, key, pdf, pdf.length, {
          'Content-Type': 'application/pdf',
          'X-Amz-Meta-Order-Id': orderId,
          'If-None-Match': '*',
        });
        return { key, created: true };
      } catch (err) {
        if ((err as { code?: string }).code === 'PreconditionFailed') return { key, created: false };
        throw err;
      }
    },
    getVoucher: (key) => client.getObject(config.bucket, key),
  };
}
