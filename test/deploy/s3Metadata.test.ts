/**
 * The local S3 store answers HEAD on objects stored through it from memory
 * (devstack/s3Metadata.ts), and describes their notifications from their PUT: every answer
 * must be exactly what s3rver reads from its files. A second store on the same directory, which
 * remembers nothing, is the reference. Overwrites, copies and deletes must never leave an old
 * answer behind.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { CopyConditions, type Client } from 'minio';
import t, { type Test } from 'tap';
import { makeLogger } from '../../common/log.js';
import { startS3Store } from '../../devstack/s3Store.js';
import { freePort, makeTestVhost, s3Client } from '../support/services.js';

const BUCKET = 'vouchers';
const EXCHANGE = 'crs.vouchers.metadata-test';
const credentials = {
  accessKey: `ADMIN${randomBytes(6).toString('hex').toUpperCase()}`,
  secretKey: randomBytes(24).toString('base64url'),
};
const amqpUrl = await makeTestVhost(t);
const dir = await mkdtemp(join(tmpdir(), 'crs-s3-metadata-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

const startStore = async () => {
  const store = await startS3Store({
    port: await freePort(),
    directory: dir,
    ...credentials,
    bucket: BUCKET,
    amqpUrl,
    exchange: EXCHANGE,
    routingKey: 'vouchers',
    log: makeLogger({ level: 'silent', component: 's3-store' }),
  });
  t.teardown(() => store.close());
  return s3Client({
    S3_ENDPOINT: store.url,
    S3_ACCESS_KEY: credentials.accessKey,
    S3_SECRET_KEY: credentials.secretKey,
  });
};
// `remembering` takes every write; `reading` only reads, so it answers from s3rver's files.
const remembering = await startStore();
const reading = await startStore();

const connection = await amqp.connect(amqpUrl);
t.teardown(() => connection.close());
const channel = await connection.createChannel();
await channel.assertExchange(EXCHANGE, 'fanout', { durable: true });
const { queue } = await channel.assertQueue('', { exclusive: true });
await channel.bindQueue(queue, EXCHANGE, '');
const notifications: { key: string; object: Record<string, unknown> }[] = [];
await channel.consume(queue, (message) => {
  if (!message) return;
  const record = JSON.parse(message.content.toString()).Records[0];
  notifications.push({ key: decodeURIComponent(record.s3.object.key), object: record.s3.object });
  channel.ack(message);
});
const notificationOf = async (key: string, count: number) => {
  for (let i = 0; i < 200 && notifications.filter((n) => n.key === key).length < count; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return notifications.filter((n) => n.key === key)[count - 1]?.object;
};

/** HEAD through both stores: the same answer, or the same error code. */
const sameAnswer = async (t: Test, key: string) => {
  const ask = (client: Client) =>
    client.statObject(BUCKET, key).catch((err: { code?: string }) => ({ error: err.code }));
  const [fromMemory, fromFiles] = [await ask(remembering), await ask(reading)];
  t.same(fromMemory, fromFiles, `HEAD ${key}: as s3rver answers from its files`);
  return fromMemory;
};

t.test('an object PUT through the store: HEAD and its notification, without its files', async (t) => {
  const body = Buffer.from('%PDF-1.7 first');
  await remembering.putObject(BUCKET, 'orders/a.pdf', body, body.length, {
    'Content-Type': 'application/pdf',
    'Cache-Control': 'no-store',
    'X-Amz-Meta-Order-Id': 'a',
  });
  const head = await sameAnswer(t, 'orders/a.pdf');
  t.match(head, {
    size: body.length,
    metaData: { 'content-type': 'application/pdf', 'cache-control': 'no-store', 'order-id': 'a' },
  });
  const notified = await notificationOf('orders/a.pdf', 1);
  t.match(notified, {
    size: body.length,
    contentType: 'application/pdf',
    userMetadata: { 'X-Amz-Meta-Order-Id': 'a' },
  });
  t.equal(notified?.['eTag'], (head as { etag: string }).etag, 'the ETag s3rver stored');

  const untyped = Buffer.from('no type given');
  await remembering.putObject(BUCKET, 'orders/untyped.bin', untyped, untyped.length);
  t.match(await sameAnswer(t, 'orders/untyped.bin'), { metaData: { 'content-type': 'binary/octet-stream' } });

  // Answered from memory indeed: with s3rver's metadata file gone, only the other store changes.
  await rm(join(dir, BUCKET, 'orders', 'a.pdf._S3rver_metadata.json'));
  t.match(await reading.statObject(BUCKET, 'orders/a.pdf'), {
    metaData: { 'content-type': 'binary/octet-stream' },
  });
  t.match(await remembering.statObject(BUCKET, 'orders/a.pdf'), {
    metaData: { 'content-type': 'application/pdf' },
  });
});

t.test('overwritten, copied onto or deleted: never an old answer', async (t) => {
  const first = Buffer.from('%PDF-1.7 one');
  const second = Buffer.from('%PDF-1.7 two, longer');
  await remembering.putObject(BUCKET, 'orders/b.pdf', first, first.length, {
    'Content-Type': 'application/pdf',
  });
  await sameAnswer(t, 'orders/b.pdf');
  await remembering.putObject(BUCKET, 'orders/b.pdf', second, second.length, {
    'Content-Type': 'text/plain',
  });
  t.match(await sameAnswer(t, 'orders/b.pdf'), {
    size: second.length,
    metaData: { 'content-type': 'text/plain' },
  });

  // A copy onto a remembered key is described from the files, and forgotten.
  await remembering.putObject(BUCKET, 'orders/source.pdf', first, first.length, {
    'Content-Type': 'application/pdf',
    'X-Amz-Meta-Kind': 'source',
  });
  await remembering.copyObject(BUCKET, 'orders/b.pdf', `/${BUCKET}/orders/source.pdf`, new CopyConditions());
  t.match(await sameAnswer(t, 'orders/b.pdf'), { size: first.length, metaData: { kind: 'source' } });
  t.match(await notificationOf('orders/b.pdf', 3), {
    size: first.length,
    userMetadata: { 'X-Amz-Meta-Kind': 'source' },
  });

  await remembering.removeObject(BUCKET, 'orders/b.pdf');
  t.same(await sameAnswer(t, 'orders/b.pdf'), { error: 'NotFound' });

  // A multi-object delete is a write to the bucket: everything it held is forgotten.
  await remembering.removeObjects(BUCKET, ['orders/a.pdf', 'orders/source.pdf']);
  t.same(await sameAnswer(t, 'orders/a.pdf'), { error: 'NotFound' });
  t.same(await sameAnswer(t, 'orders/source.pdf'), { error: 'NotFound' });
});

t.test('concurrent PUTs of one key: the last stored is what HEAD tells', async (t) => {
  const bodies = Array.from({ length: 8 }, (_, i) => Buffer.from(`%PDF-1.7 version ${i} ${'x'.repeat(i)}`));
  await Promise.all(bodies.map((body) => remembering.putObject(BUCKET, 'orders/c.pdf', body, body.length)));
  const head = await sameAnswer(t, 'orders/c.pdf');
  t.ok(
    bodies.some((body) => body.length === (head as { size: number }).size),
    'one of the versions',
  );
});
