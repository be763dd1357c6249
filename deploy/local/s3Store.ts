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
 */
import { randomBytes, randomUUID } from 'node:crypto';
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { Client } from 'minio';
import S3rver from 's3rver';
import { backoffMs, sleep } from '../../common/backoff.js';
import type { Logger } from '../../common/log.js';
import { minioObjectCreated } from './minioEvents.js';

export interface S3StoreOptions {
  port: number;
  directory: string;
  accessKey: string;
  secretKey: string;
  amqpUrl: string;
  exchange: string;
  routingKey: string;
  log: Logger;
}

export interface RunningS3Store {
  url: string;
  close(): Promise<void>;
}

interface S3rverEvent {
  Records: {
    eventName: string;
    s3: { bucket: { name: string }; object: { key: string; size: number; eTag?: string } };
  }[];
}

// s3rver's accounts are a static registry; its built-in dummy key pair is replaced by ours.
const accounts = (await import('s3rver/lib/models/account.js')).default;

export async function startS3Store(options: S3StoreOptions): Promise<RunningS3Store> {
  accounts.DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
  accounts.DUMMY_ACCOUNT.createKeyPair(options.accessKey, options.secretKey);
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port,
    directory: options.directory,
    silent: true,
    vhostBuckets: false,
    allowMismatchedSignatures: false,
  });
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

  // Events are published one after the other, in the order objects were stored.
  let queue = Promise.resolve();
  server.on('event', (event: S3rverEvent) => {
    const record = event.Records[0];
    if (!record || !record.eventName.startsWith('ObjectCreated')) return;
    queue = queue
      .then(() => publish(record.s3.bucket.name, record.s3.object.key))
      .catch((err: unknown) => options.log.error({ err }, 'bucket notification not published'));
  });

  async function publish(bucket: string, key: string) {
    const stat = await client.statObject(bucket, key);
    const { 'content-type': contentType = 'application/octet-stream', ...rest } = stat.metaData as Record<
      string,
      string
    >;
    const message = minioObjectCreated({
      bucket,
      key,
      size: stat.size,
      eTag: stat.etag,
      contentType,
      userMetadata: Object.fromEntries(
        Object.entries(rest).map(([name, value]) => [`x-amz-meta-${name}`, value]),
      ),
      eventTime: new Date(),
      principal: options.accessKey,
      sourceIp: '127.0.0.1',
      endpoint: url,
      userAgent: 'MinIO (local S3 store adapter)',
      requestId: randomBytes(8).toString('hex').toUpperCase(),
      deploymentId,
      sequencer: Date.now().toString(16).toUpperCase(),
    });
    for (let attempt = 0; ; attempt += 1) {
      try {
        const ch = await openChannel();
        ch.publish(options.exchange, options.routingKey, Buffer.from(JSON.stringify(message.body)), {
          contentType: message.contentType,
          headers: message.headers,
          persistent: true,
        });
        await ch.waitForConfirms();
        return;
      } catch (err) {
        channel = undefined;
        if (attempt >= 5) throw err;
        await sleep(backoffMs(attempt, 200));
      }
    }
  }

  return {
    url,
    async close() {
      await queue;
      await connection?.close().catch(() => undefined);
      await server.close();
    },
  };
}
