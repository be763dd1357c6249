/**
 * What the local S3 store knows of its objects without reading s3rver's files. s3rver keeps
 * each object as three files (the bytes, their MD5, a metadata JSON) and answers a HEAD by
 * reading all three and opening the object, and each voucher is stored once, described once
 * for its notification (its metadata read back) and confirmed once by the API (a HEAD): file
 * operations that made the store the pipeline's most expensive step per voucher on a laptop.
 * So, after the gate has checked a request's signature and policy:
 *   - HEAD on a bucket is answered from the bucket (s3rver lists every object for it);
 *   - a PUT's metadata is taken from its request headers exactly as s3rver stores it, handed to
 *     the notification (no read back), and remembered with the size, ETag and modification time
 *     of the stored file (one stat);
 *   - HEAD on a remembered object is answered from memory, headers as s3rver sets them;
 *   - any other write to a key (PUT, POST, DELETE, copy onto it) forgets it before it runs, and
 *     a write to a bucket itself (multi-object delete, bucket deletion) forgets the bucket.
 * A store that restarts remembers nothing and serves everything from s3rver's files again.
 * Conditional and range requests, presigned (query) requests and anything unusual go to s3rver.
 */
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { requestTarget, type GateContext } from './s3Gate.js';

/** The metadata s3rver keeps of an object's request headers (its S3Object.ALLOWED_METADATA). */
const KEPT_HEADERS = [
  'cache-control',
  'content-disposition',
  'content-encoding',
  'content-language',
  'content-type',
  'expires',
  'x-amz-storage-class',
  'x-amz-website-redirect-location',
] as const;
/** Headers that make a HEAD conditional or partial: s3rver answers those. */
const CONDITIONAL = ['range', 'if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since'];
/** Objects remembered at most (least recently stored or read forgotten first): ~2 MB. */
const REMEMBERED_MAX = 10_000;

/** An object's metadata as s3rver stores it: kept headers (content-type defaulted), then x-amz-meta-*. */
export type StoredHeaders = Record<string, string>;

export interface StoredObject {
  headers: StoredHeaders;
  /** MD5 hex, unquoted. */
  etag: string;
  size: number;
  lastModified: Date;
}

/** s3rver's file store: where an object's bytes are, and whether a bucket exists. */
export interface S3rverFiles {
  getResourcePath(bucket: string, key: string, resource: string): string;
  getBucket(bucket: string): Promise<unknown>;
}

export interface ObjectMetadata {
  /** Koa middleware for right after the gate (and before s3rver's router). */
  middleware(ctx: GateContext, next: () => Promise<unknown>): Promise<unknown>;
  /**
   * Called from s3rver's object-created event: the stored object's metadata when the object
   * was just PUT through this middleware (then it is remembered too), else undefined.
   */
  created(bucket: string, key: string, event: { size: number; etag: string }): StoredHeaders | undefined;
}

/** The metadata s3rver derives from a PUT's headers (S3Object's constructor, putMetadata). */
export function storedHeaders(headers: GateContext['headers']): StoredHeaders {
  const kept: StoredHeaders = {};
  for (const name of KEPT_HEADERS) {
    const value = headers[name];
    if (typeof value === 'string') kept[name] = value;
  }
  kept['content-type'] ??= 'binary/octet-stream';
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith('x-amz-meta-') && typeof value === 'string') kept[name] = value;
  }
  return kept;
}

interface PutInFlight {
  headers: StoredHeaders;
  /** Set by `created`: what the object-created event said, and the stored file's stat. */
  stored?: Promise<StoredObject | undefined>;
}

export function makeObjectMetadata(files: S3rverFiles): ObjectMetadata {
  const remembered = new Map<string, StoredObject>();
  // Writes to a key in flight, and how many began while any was (an entry lives as long as a
  // write to its key does); writes ever begun to a bucket itself. A PUT's object is remembered
  // only when it was the one write to its key from start to end and no bucket write began.
  const keyWrites = new Map<string, { writing: number; began: number }>();
  const bucketWrites = new Map<string, { writing: number; began: number }>();
  const putting = new Map<string, PutInFlight>();
  const objectId = (bucket: string, key: string) => `${bucket}/${key}`;

  function begin(map: Map<string, { writing: number; began: number }>, name: string) {
    const entry = map.get(name) ?? { writing: 0, began: 0 };
    entry.writing += 1;
    entry.began += 1;
    map.set(name, entry);
    return entry;
  }

  function remember(name: string, object: StoredObject) {
    remembered.delete(name);
    remembered.set(name, object);
    if (remembered.size > REMEMBERED_MAX) remembered.delete(remembered.keys().next().value as string);
  }

  function answerHead(ctx: GateContext, object: StoredObject) {
    // As s3rver's getObject answers a HEAD: its headers in its order, no body.
    ctx.status = 200;
    ctx.set('Accept-Ranges', 'bytes');
    for (const [name, value] of Object.entries(object.headers)) ctx.set(name, value);
    ctx.set('ETag', JSON.stringify(object.etag));
    ctx.set('Last-Modified', object.lastModified.toUTCString());
    ctx.set('Content-Length', String(object.size));
  }

  /** A write to a bucket itself: forgets its objects, before and after. */
  async function writeBucket(bucket: string, next: () => Promise<unknown>) {
    const forgetBucket = () => {
      for (const name of [...remembered.keys()]) if (name.startsWith(`${bucket}/`)) remembered.delete(name);
    };
    forgetBucket();
    const entry = begin(bucketWrites, bucket);
    try {
      return await next();
    } finally {
      entry.writing -= 1;
      forgetBucket();
    }
  }

  /** A write to one key: forgets it; a plain PUT that was the only write remembers its object. */
  async function writeKey(
    name: string,
    bucket: string,
    put: PutInFlight | undefined,
    next: () => Promise<unknown>,
  ) {
    remembered.delete(name);
    const entry = begin(keyWrites, name);
    const began = entry.began;
    const bucketBegan = bucketWrites.get(bucket)?.began ?? 0;
    if (put) putting.set(name, put);
    try {
      await next();
      const object = await put?.stored;
      const bucketEntry = bucketWrites.get(bucket);
      const alone = entry.writing === 1 && entry.began === began;
      const bucketQuiet = (bucketEntry?.writing ?? 0) === 0 && (bucketEntry?.began ?? 0) === bucketBegan;
      if (object && alone && bucketQuiet) remember(name, object);
    } finally {
      entry.writing -= 1;
      if (entry.writing === 0) keyWrites.delete(name);
      if (putting.get(name) === put) putting.delete(name);
    }
  }

  return {
    async middleware(ctx, next) {
      const target = requestTarget(ctx.path);
      if (!target?.bucket) return next();
      const { bucket } = target;
      // `/bucket/` is the bucket itself, as for s3rver's router.
      const key = target.key === '' ? undefined : target.key;
      const signed = String(ctx.headers['authorization'] ?? '').startsWith('AWS4-HMAC-SHA256 ');
      const plain = ctx.querystring === '' && signed;

      if (ctx.method === 'HEAD' || ctx.method === 'GET') {
        if (ctx.method !== 'HEAD' || !plain || CONDITIONAL.some((name) => ctx.headers[name] !== undefined)) {
          return next();
        }
        if (key === undefined) {
          ctx.status = (await files.getBucket(bucket)) ? 200 : 404;
          ctx.set('x-amz-request-id', randomBytes(8).toString('hex').toUpperCase());
          return;
        }
        const object = remembered.get(objectId(bucket, key));
        return object ? answerHead(ctx, object) : next();
      }

      if (key === undefined) return writeBucket(bucket, next);
      const isPut = ctx.method === 'PUT' && plain && ctx.headers['x-amz-copy-source'] === undefined;
      return writeKey(
        objectId(bucket, key),
        bucket,
        isPut ? { headers: storedHeaders(ctx.headers) } : undefined,
        next,
      );
    },

    created(bucket, key, event) {
      const name = objectId(bucket, key);
      const put = putting.get(name);
      if (!put || keyWrites.get(name)?.writing !== 1) return undefined;
      // The file's own modification time, as s3rver's HEAD reports it (its PUT waits for this).
      put.stored = stat(files.getResourcePath(bucket, key, 'object')).then(
        (file) => ({ headers: put.headers, etag: event.etag, size: event.size, lastModified: file.mtime }),
        () => undefined,
      );
      return put.headers;
    },
  };
}
