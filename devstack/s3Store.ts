/**
 * The local S3 store: s3rver (an S3-compatible server from npm) on its own port with its data
 * under the data directory, standing in for MinIO, which cannot be installed here. For every
 * stored object it publishes the exact message MinIO's AMQP notification target would publish
 * (devstack/minioEvents.ts) to the voucher exchange, so everything downstream runs the
 * production code path.
 *
 * What s3rver lacks, and where it matters: bucket notification and lifecycle configuration
 * (the renderer's bucket setup is told NotImplemented and says so; this adapter publishes
 * every object-created event instead, and nothing expires locally).
 *
 * Keys, as on MinIO in Kubernetes: an admin key that may do anything (MinIO's root user: the
 * bucket set-up, tests), and optionally the API's and the renderer's keys, each held to its
 * policy document from deploy/kubernetes/base/minio/policies (s3Policy.ts). The gate in front
 * of s3rver (s3Gate.ts) verifies signatures and applies the policies; its fault switch makes
 * the store refuse writes for a while (`refuseWrites`, SIGUSR2 on `crs s3-store`). After the
 * gate, s3Metadata.ts answers what s3rver would read files for: HEAD on a bucket, HEAD on an
 * object stored through this process, a stored object's metadata for its notification; and
 * s3ConditionalPut.ts gives PUT the `If-None-Match: *` condition MinIO has.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { Client } from 'minio';
import S3rver from 's3rver';
import { backoffMs, sleep } from '../common/backoff.js';
import type { Logger } from '../common/log.js';
import { makeConditionalPut } from './s3ConditionalPut.js';
import { minioObjectCreated, type AmqpNotification } from './minioEvents.js';
import { makeS3Gate, type GateContext, type StoreKey } from './s3Gate.js';
import { ALLOW_ALL } from './s3Policy.js';
import { makeObjectMetadata, type S3rverFiles, type StoredHeaders } from './s3Metadata.js';

export interface S3StoreOptions {
  port: number;
  directory: string;
  /** The admin key: every right (MinIO's root user). */
  accessKey: string;
  secretKey: string;
  /** Further keys, each held to its policy (the API's, the renderer's). */
  roleKeys?: StoreKey[];
  /** A bucket made at start with the admin key, as Kubernetes' bucket-setup Job makes it. */
  bucket?: string;
  amqpUrl: string;
  exchange: string;
  routingKey: string;
  log: Logger;
}

export interface RunningS3Store {
  url: string;
  /** Refuses object writes (PUT, POST) with 503 SlowDown for `ms`; reads go on. */
  refuseWrites(ms: number): void;
  close(): Promise<void>;
}

interface S3rverEvent {
  Records: {
    eventName: string;
    s3: { bucket: { name: string }; object: { key: string; size: number; eTag?: string } };
  }[];
}

/** A stored object waiting for its notification; `known` when its PUT told its metadata. */
interface Stored {
  bucket: string;
  key: string;
  at: Date;
  /** The access key that stored it (MinIO's principalId). */
  principal: string;
  known?: { headers: StoredHeaders; size: number; etag: string };
}

/** Events waiting for RabbitMQ at most (about 50 MB of messages). */
const MAX_PENDING_EVENTS = 50_000;
/** Events published together, their confirms awaited once. */
const PUBLISH_BATCH = 100;

/** s3rver's file store: an object's metadata as its HEAD would answer (quoted etag), its files. */
interface S3rverStore extends S3rverFiles {
  getMetadata(bucket: string, key: string): Promise<Record<string, string | number | undefined>>;
}

// s3rver's accounts are a static registry; its built-in dummy key pair is replaced by ours.
const accounts = (await import('s3rver/lib/models/account.js')).default;

export async function startS3Store(options: S3StoreOptions): Promise<RunningS3Store> {
  const keys: StoreKey[] = [
    { role: 'admin', accessKey: options.accessKey, secretKey: options.secretKey, policy: ALLOW_ALL },
    ...(options.roleKeys ?? []),
  ];
  accounts.DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
  for (const key of keys) accounts.DUMMY_ACCOUNT.createKeyPair(key.accessKey, key.secretKey);
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port,
    directory: options.directory,
    silent: true,
    vhostBuckets: false,
    allowMismatchedSignatures: false,
  });
  // s3rver is a Koa app: the gate goes right before its router (after its virtual-host
  // rewrite, so it judges the path s3rver will serve), ahead of its own authentication.
  const gate = makeS3Gate({ keys, log: options.log });
  const { middleware } = server as unknown as { middleware: { name: string }[] };
  const router = middleware.length - 1;
  if (middleware[router]?.name !== 'dispatch') {
    throw new Error("s3rver's middleware is not laid out as this version expects; the gate cannot be placed");
  }
  const store = (server as unknown as { store: S3rverStore }).store;
  const metadata = makeObjectMetadata(store);
  middleware.splice(
    router,
    0,
    (ctx: GateContext, next: () => Promise<unknown>) => gate.middleware(ctx, next),
    makeConditionalPut(store),
    (ctx: GateContext, next: () => Promise<unknown>) => metadata.middleware(ctx, next),
  );
  // s3rver formats a colored log line for every request (koa-logger) even when silent, only
  // for its silent logger to drop it; the gate logs requests itself.
  const logger = middleware.findIndex((m) => m.name === 'logger');
  if (logger >= 0) middleware.splice(logger, 1);
  await server.run();
  const url = `http://127.0.0.1:${options.port}`;
  const deploymentId = randomUUID();
  const client = new Client({
    endPoint: '127.0.0.1',
    port: options.port,
    useSSL: false,
    accessKey: options.accessKey,
    secretKey: options.secretKey,
    pathStyle: true,
  });
  if (options.bucket && !(await client.bucketExists(options.bucket))) {
    await client.makeBucket(options.bucket).catch((err: unknown) => {
      const code = (err as { code?: string }).code;
      if (code !== 'BucketAlreadyOwnedByYou' && code !== 'BucketAlreadyExists') throw err;
    });
  }

  let connection: ChannelModel | undefined;
  let channel: ConfirmChannel | undefined;
  async function openChannel() {
    if (channel) return channel;
    connection = await amqp.connect(options.amqpUrl);
    connection.on('error', () => undefined);
    connection.on('close', () => {
      connection = undefined;
      channel = undefined;
    });
    const ch = await connection.createConfirmChannel();
    ch.on('error', () => undefined);
    await ch.assertExchange(options.exchange, 'fanout', { durable: true });
    channel = ch;
    return ch;
  }

  // Events go out in the order objects were stored, in batches: each batch is published and
  // its confirms awaited once (one wait per batch rather than per event). Like MinIO with a
  // queue_dir (deploy/kubernetes/base/minio/tenant.yaml), events wait while RabbitMQ is away
  // and go out when it is back (a batch cut off midway is published again whole: consumers
  // take an event twice, as from MinIO); only a store that is closing, or a backlog past
  // MAX_PENDING_EVENTS, gives one up (logged with its key, so reconcile can find it).
  const waiting: Stored[] = [];
  let inFlight = 0;
  let closing = false;
  let draining: Promise<void> | undefined;
  server.on('event', (event: S3rverEvent) => {
    const record = event.Records[0];
    if (!record || !record.eventName.startsWith('ObjectCreated')) return;
    const { name: bucket } = record.s3.bucket;
    const { key, size, eTag } = record.s3.object;
    // A PUT's metadata comes from its request (s3Metadata.ts); anything else is read back.
    const headers = eTag === undefined ? undefined : metadata.created(bucket, key, { size, etag: eTag });
    const pending = waiting.length + inFlight;
    if (pending >= MAX_PENDING_EVENTS) {
      options.log.error({ bucket, key, pending }, 'bucket notification dropped: too many waiting');
      return;
    }
    waiting.push({
      bucket,
      key,
      at: new Date(),
      principal: gate.requester() ?? '',
      ...(headers && eTag && { known: { headers, size, etag: eTag } }),
    });
    draining ??= drain();
  });

  async function drain() {
    // No await between the last look at `waiting` and letting go of `draining`: an event
    // arriving later starts a new drain.
    while (waiting.length > 0) {
      const batch = waiting.splice(0, PUBLISH_BATCH);
      inFlight = batch.length;
      try {
        await publish(await describe(batch));
      } catch (err) {
        for (const { bucket, key } of batch) {
          options.log.error({ err, bucket, key }, 'bucket notification not published');
        }
      }
      inFlight = 0;
    }
    draining = undefined;
  }

  /** A stored object's metadata: as its PUT gave it, or else from s3rver's own files. */
  async function metadataOf({ bucket, key, known }: Stored) {
    if (known) return { ...known.headers, 'content-length': known.size, etag: known.etag };
    return store.getMetadata(bucket, key);
  }

  /**
   * MinIO's message for each stored object (no request to ourselves: that HEAD cost as much as
   * the upload). An object read back from files and gone again has no event.
   */
  async function describe(batch: Stored[]) {
    const described = await Promise.all(
      batch.map(async (stored) => {
        const { bucket, key, at, principal } = stored;
        let objectMetadata;
        try {
          objectMetadata = await metadataOf(stored);
        } catch (err) {
          options.log.warn({ err, bucket, key }, 'stored object gone before its notification');
          return undefined;
        }
        const { 'content-type': contentType, 'content-length': size, etag } = objectMetadata;
        const userMetadata = Object.fromEntries(
          Object.entries(objectMetadata).filter(
            (entry): entry is [string, string] =>
              entry[0].startsWith('x-amz-meta-') && typeof entry[1] === 'string',
          ),
        );
        return minioObjectCreated({
          bucket,
          key,
          size: Number(size),
          eTag: String(etag ?? '').replace(/^"|"$/g, ''),
          contentType: typeof contentType === 'string' ? contentType : 'application/octet-stream',
          userMetadata,
          eventTime: at,
          principal,
          sourceIp: '127.0.0.1',
          endpoint: url,
          userAgent: 'MinIO (local S3 store adapter)',
          requestId: randomBytes(8).toString('hex').toUpperCase(),
          deploymentId,
          sequencer: at.getTime().toString(16).toUpperCase(),
        });
      }),
    );
    return described.filter((message) => message !== undefined);
  }

  async function publish(messages: AmqpNotification[]) {
    if (messages.length === 0) return;
    for (let attempt = 0; ; attempt += 1) {
      try {
        const ch = await openChannel();
        for (const message of messages) {
          ch.publish(options.exchange, options.routingKey, Buffer.from(JSON.stringify(message.body)), {
            contentType: message.contentType,
            headers: message.headers,
            persistent: true,
          });
        }
        await ch.waitForConfirms();
        return;
      } catch (err) {
        channel = undefined;
        if (closing) throw err;
        if (attempt === 5) {
          options.log.warn(
            { err, pending: waiting.length + inFlight },
            'bucket notifications waiting for RabbitMQ',
          );
        }
        await sleep(backoffMs(attempt, 200, 2_000));
      }
    }
  }

  return {
    url,
    refuseWrites: (ms) => gate.refuseWrites(ms),
    async close() {
      gate.close();
      closing = true;
      await draining;
      await connection?.close().catch(() => undefined);
      await server.close();
    },
  };
}
