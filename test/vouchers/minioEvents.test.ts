/**
 * The local S3 store's notification is MinIO's AMQP message, field by field: the fixture was
 * built from MinIO's source and a message a real MinIO published (test/vouchers/fixtures, this
 * project's copy of the contract's fixture).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import amqp from 'amqplib';
import t from 'tap';
import { packageRoot } from '../../common/paths.js';
import { minioObjectCreated, queryEscape } from '../../devstack/minioEvents.js';
import { parseBucketNotification } from '../../bucket/minioEvent.js';
import { waitFor } from '../support/cdc.js';
import { ALLOW_ALL } from '../../devstack/s3Policy.js';
import { makeTestVhost, s3Client, startTestS3, subscribe } from '../support/services.js';

const fixture = JSON.parse(
  await readFile(join(packageRoot, 'test', 'vouchers', 'fixtures', 'minio-amqp-object-created.json'), 'utf8'),
);
const record = fixture.Records[0];

t.test('the message for the fixture object equals the fixture', async (t) => {
  const message = minioObjectCreated({
    bucket: 'vouchers',
    key: '2026/11/order 42.pdf',
    size: record.s3.object.size,
    eTag: record.s3.object.eTag,
    contentType: 'application/pdf',
    userMetadata: { 'x-amz-meta-order-id': '42' },
    eventTime: new Date(record.eventTime),
    principal: 'renderer',
    sourceIp: record.requestParameters.sourceIPAddress,
    endpoint: record.responseElements['x-minio-origin-endpoint'],
    userAgent: record.source.userAgent,
    requestId: record.responseElements['x-amz-request-id'],
    deploymentId: record.responseElements['x-minio-deployment-id'],
    sequencer: record.s3.object.sequencer,
  });
  t.same(message.body, fixture, 'every field');
  t.same(message.headers, { 'minio-bucket': 'vouchers', 'minio-event': 's3:ObjectCreated:Put' });
  t.equal(message.contentType, 'application/json');
});

t.test("keys are escaped as Go's url.QueryEscape does", async (t) => {
  t.equal(queryEscape('2026/11/order 42.pdf'), '2026%2F11%2Forder+42.pdf');
  t.equal(queryEscape("a!b'c(d)e*f~g_h.i-j"), 'a%21b%27c%28d%29e%2Af~g_h.i-j');
  t.equal(queryEscape('ä'), '%C3%A4');
});

t.test('the local store publishes it for every stored object, and the API reads it back', async (t) => {
  const amqpUrl = await makeTestVhost(t);
  const connection = await amqp.connect(amqpUrl);
  t.teardown(() => connection.close());
  const channel = await connection.createChannel();
  await channel.assertExchange('crs.vouchers', 'fanout', { durable: true });
  const { queue } = await channel.assertQueue('', { exclusive: true });
  await channel.bindQueue(queue, 'crs.vouchers', '');
  const received = new Promise<amqp.ConsumeMessage>((resolve) => {
    void channel.consume(queue, (message) => message && resolve(message));
  });

  const s3 = await startTestS3(t, { amqpUrl });
  const client = s3Client(s3.env);
  await client.makeBucket('vouchers');
  await client.putObject('vouchers', 'orders/order-0042.pdf', Buffer.from('%PDF-1.7'), 8, {
    'Content-Type': 'application/pdf',
    'X-Amz-Meta-Order-Id': 'order-0042',
  });
  const message = await received;
  t.equal(message.fields.routingKey, 'vouchers', 'the one configured routing key');
  t.equal(message.properties.contentType, 'application/json');
  t.same(message.properties.headers, { 'minio-bucket': 'vouchers', 'minio-event': 's3:ObjectCreated:Put' });
  const body = JSON.parse(message.content.toString());
  t.equal(body.EventName, 's3:ObjectCreated:Put');
  t.equal(body.Key, 'vouchers/orders/order-0042.pdf');
  const published = body.Records[0];
  t.equal(published.s3.object.key, 'orders%2Forder-0042.pdf');
  t.equal(published.s3.object.size, 8);
  t.equal(published.s3.object.contentType, 'application/pdf');
  t.equal(published.s3.object.userMetadata['X-Amz-Meta-Order-Id'], 'order-0042');
  t.same(Object.keys(published).sort(), Object.keys(record).sort(), 'the same record fields as MinIO');
  t.same(Object.keys(published.s3.object).sort(), Object.keys(record.s3.object).sort());
  t.same(parseBucketNotification(message.content), {
    orderId: 'order-0042',
    key: 'orders/order-0042.pdf',
    bucket: 'vouchers',
    eventTime: published.eventTime,
  });
});

t.test('the event names the access key that stored the object, as MinIO does', async (t) => {
  const amqpUrl = await makeTestVhost(t);
  const principals = new Map<string, string>();
  await subscribe(t, amqpUrl, { name: 'crs.vouchers', type: 'fanout' }, (body) => {
    const event = body as { Key: string; Records: { userIdentity: { principalId: string } }[] };
    principals.set(event.Key, event.Records[0]!.userIdentity.principalId);
  });

  const uploader = { role: 'renderer', accessKey: 'RENDERERKEY0000000001', secretKey: 'r'.repeat(40) };
  const s3 = await startTestS3(t, { amqpUrl, bucket: true, roleKeys: [{ ...uploader, policy: ALLOW_ALL }] });
  const asUploader = s3Client({
    ...s3.env,
    S3_ACCESS_KEY: uploader.accessKey,
    S3_SECRET_KEY: uploader.secretKey,
  });
  await asUploader.putObject('vouchers', 'orders/by-renderer.pdf', Buffer.from('%PDF-1.7'), 8);
  await s3.client.putObject('vouchers', 'orders/by-admin.pdf', Buffer.from('%PDF-1.7'), 8);
  await waitFor('both events', async () => principals.size >= 2);
  t.equal(
    principals.get('vouchers/orders/by-renderer.pdf'),
    uploader.accessKey,
    'the uploader, not the root key',
  );
  t.equal(principals.get('vouchers/orders/by-admin.pdf'), s3.env['S3_ACCESS_KEY']);
});

t.test('messages that are not voucher object-created events are not understood as one', async (t) => {
  for (const body of [
    'not json',
    '{}',
    '{"Records":[]}',
    JSON.stringify({ ...fixture }),
    '{"Records":[{"eventName":"s3:ObjectRemoved:Delete"}]}',
  ]) {
    t.equal(parseBucketNotification(Buffer.from(body)), undefined, body.slice(0, 40));
  }
});
