/**
 * The local S3 store: s3rver (an S3-compatible server from npm) on its own port with its data
 * under the data directory, standing in for MinIO, which cannot be installed here. For every
 * stored object it publishes the exact message MinIO's AMQP notification target would publish
 * (deploy/local/minioEvents.ts) to the voucher exchange, so everything downstream runs the
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
 * the store refuse writes for a while (`refuseWrites`, SIGUSR2 on `crs s3-store`).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { Client } from 'minio';
import S3rver from 's3rver';
import { backoffMs, sleep } from '../../common/backoff.js';
import type { Logger } from '../../common/log.js';
import { minioObjectCreated, type AmqpNotification } from './minioEvents.js';
import { makeS3Gate, type GateContext, type StoreKey } from './s3Gate.js';
import { ALLOW_ALL } from './s3Policy.js';

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

/** Events waiting for RabbitMQ at most (about 50 MB of messages). */
const MAX_PENDING_EVENTS = 50_000;
/** Events published together, their confirms awaited once. */
const PUBLISH_BATCH = 100;

/** s3rver's file store: an object's metadata as its HEAD would answer (quoted etag), a bucket. */
interface S3rverStore {
  getMetadata(bucket: string, key: string): Promise<Record<string, string | number | undefined>>;
  getBucket(bucket: string): Promise<unknown>;
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
  middleware.splice(
    router,
    0,
    (ctx: GateContext, next: () => Promise<unknown>) => gate.middleware(ctx, next),
    // After the gate, which has checked the request's version 4 signature and policy. s3rver
    // answers HEAD on a bucket with its object listing, which reads every object's file: with
    // the vouchers of a long run (80,000) each readiness check (bucketExists) walked them all.
    // MinIO answers it from the bucket alone, and so does this.
    async (ctx: GateContext, next: () => Promise<unknown>) => {
      const bucket = /^\/([^/]+)\/?$/.exec(ctx.path)?.[1];
      const v4 = String(ctx.headers['authorization'] ?? '').startsWith('AWS4-HMAC-SHA256 ');
      if (ctx.method !== 'HEAD' || !bucket || ctx.querystring !== '' || !v4) return next();
      ctx.status = (await store.getBucket(bucket)) ? 200 : 404;
      ctx.set('x-amz-request-id', randomBytes(8).toString('hex').toUpperCase());
    },
  );
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
  const waiting: { bucket: string; key: string; at: Date }[] = [];
  let inFlight = 0;
  let closing = false;
  let draining: Promise<void> | undefined;
  server.on('event', (event: S3rverEvent) => {
    const record = event.Records[0];
    if (!record || !record.eventName.startsWith('ObjectCreated')) return;
    const { name: bucket } = record.s3.bucket;
    const { key } = record.s3.object;
    const pending = waiting.length + inFlight;
    if (pending >= MAX_PENDING_EVENTS) {
      options.log.error({ bucket, key, pending }, 'bucket notification dropped: too many waiting');
      return;
    }
    waiting.push({ bucket, key, at: new Date() });
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

  /**
   * MinIO's message for each stored object, from s3rver's own metadata files (no request to
   * ourselves: that HEAD cost as much as the upload). An object gone again has no event.
   */
  async function describe(batch: { bucket: string; key: string; at: Date }[]) {
    const described = await Promise.all(
      batch.map(async ({ bucket, key, at }) => {
        let metadata;
        try {
          metadata = await store.getMetadata(bucket, key);
        } catch (err) {
          options.log.warn({ err, bucket, key }, 'stored object gone before its notification');
          return undefined;
        }
        const { 'content-type': contentType, 'content-length': size, etag } = metadata;
        const userMetadata = Object.fromEntries(
          Object.entries(metadata).filter(
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
          principal: options.accessKey,
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
