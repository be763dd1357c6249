/**
 * Hostile messages on the voucher exchange, published straight to it on a real RabbitMQ: the
 * API logs each one and puts it aside (crs.vouchers.rejected), never crashes, stays connected,
 * tells no one about a voucher that is not in the bucket, and the next real event still reaches
 * the SSE subscriber and the relay.
 */
import { request, type ClientRequest } from 'node:http';
import { Writable } from 'node:stream';
import amqp from 'amqplib';
import t from 'tap';
import { startApi } from '../../api/server.js';
import { ORDERS_EXCHANGE, REJECTED_QUEUE } from '../../bucket/voucherRelay.js';
import { loadApiConfig } from '../../common/config.js';
import { makeLogger } from '../../common/log.js';
import { minioObjectCreated } from '../../devstack/minioEvents.js';
import { newSecret } from '../../devstack/secrets.js';
import { makeHttpClient, orderBody } from '../support/api.js';
import { waitFor } from '../support/cdc.js';
import { makeTestDatabase } from '../support/database.js';
import { makeTestVhost, startTestS3 } from '../support/services.js';

const EXCHANGE = 'crs.vouchers';

const db = await makeTestDatabase(t);
const amqpUrl = await makeTestVhost(t);
const s3 = await startTestS3(t, { amqpUrl, exchange: EXCHANGE, bucket: true });
const bucketClient = s3.client;

// Every line the API logs, parsed.
const logLines: Record<string, unknown>[] = [];
const destination = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString('utf8').split('\n')) if (line) logLines.push(JSON.parse(line));
    done();
  },
});
const config = loadApiConfig({
  API_DATABASE_URL: db.urls.api,
  ADMIN_TOKEN: newSecret(),
  STAFF_TOKEN: newSecret(),
  ORDER_TOKEN_KEY: newSecret(),
  PORT: '0',
  HOST: '127.0.0.1',
  RATE_LIMIT: 'off',
  LOG_LEVEL: 'debug',
  SHUTDOWN_GRACE_MS: '1000',
  AMQP_URL: amqpUrl,
  AMQP_VOUCHER_EXCHANGE: EXCHANGE,
  ...s3.env,
});
const api = await startApi(config, makeLogger({ level: 'debug', component: 'api', destination }));
const http = makeHttpClient(api.url.replace('localhost', '127.0.0.1'));
t.teardown(async () => {
  http.close();
  await api.stop();
});
await waitFor('the voucher consumer to connect', async () => api.deps.vouchers.state() === 'ok');

// The test's own view of the broker: the rejected queue (emptied of earlier runs' leftovers in
// a shared virtual host) and every voucher the relay announces.
const connection = await amqp.connect(amqpUrl);
t.teardown(() => connection.close());
const channel = await connection.createChannel();
await channel.purgeQueue(REJECTED_QUEUE);
const { queue: relayed } = await channel.assertQueue('', { exclusive: true });
await channel.bindQueue(relayed, ORDERS_EXCHANGE, 'order.#');
const announcements: { routingKey: string; body: string }[] = [];
await channel.consume(relayed, (message) => {
  if (!message) return;
  announcements.push({ routingKey: message.fields.routingKey, body: message.content.toString() });
  channel.ack(message);
});

// (Set-up failures throw: assertions at the top level would end tap's root test early.)
const placed = await http.request('/api/orders', { body: orderBody() });
if (placed.status !== 201) throw new Error(`no order to wait for: ${placed.status} ${placed.text}`);
const orderId = placed.json.orderId as string;
const accessToken = placed.json.accessToken as string;
// The SSE subscriber: every event it receives, in order.
const heard: { event: string; data: { orderId: string; url: string } }[] = [];
const stream = await new Promise<ClientRequest>((resolve, reject) => {
  const req = request(
    new URL(`/api/orders/${orderId}/events`, http.baseUrl),
    { headers: { accept: 'text/event-stream', authorization: `Bearer ${accessToken}` } },
    (res) => {
      if (res.statusCode !== 200) reject(new Error(`the SSE subscriber is not listening: ${res.statusCode}`));
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) heard.push({ event, data: JSON.parse(data) });
        }
      });
      res.on('error', () => undefined);
      resolve(req);
    },
  );
  req.on('error', reject);
  req.end();
});
t.teardown(() => stream.destroy());

/** MinIO's exact message for an object, as the body to publish. */
const objectCreated = (key: string, bucket = 'vouchers') =>
  minioObjectCreated({
    bucket,
    key,
    size: 8,
    eTag: '0123456789abcdef0123456789abcdef',
    contentType: 'application/pdf',
    userMetadata: {},
    eventTime: new Date(),
    principal: 'forger',
    sourceIp: '127.0.0.1',
    endpoint: 'http://127.0.0.1:9000',
    userAgent: 'test',
    requestId: 'REQ',
    deploymentId: 'dep',
    sequencer: '1',
  }).body;
/** The same with the record's key replaced as sent (already escaped, or not). */
const withRawKey = (rawKey: unknown) => {
  const body = objectCreated(`orders/${orderId}.pdf`) as { Records: { s3: { object: { key: unknown } } }[] };
  body.Records[0]!.s3.object.key = rawKey;
  return body;
};

interface Hostile {
  name: string;
  body: string | Buffer;
  contentType?: string | undefined;
  reason: string;
}
const json = (value: unknown) => JSON.stringify(value);
const hostile: Hostile[] = [
  { name: 'not JSON', body: 'this is not {json', reason: 'not JSON' },
  { name: 'invalid UTF-8', body: Buffer.from([0xff, 0xfe, 0x7b, 0x00]), reason: 'not JSON' },
  { name: 'an empty body', body: '', reason: 'not JSON' },
  { name: 'JSON null', body: 'null', reason: 'no event record' },
  { name: 'a JSON array', body: '[1,2,3]', reason: 'no event record' },
  { name: 'a JSON string', body: '"Records"', reason: 'no event record' },
  { name: 'Records not an array', body: json({ Records: 'x' }), reason: 'no event record' },
  { name: 'Records of null', body: json({ Records: [null] }), reason: 'no event record' },
  { name: 'no eventName', body: json({ Records: [{ s3: {} }] }), reason: 'not an object-created event' },
  {
    name: 'an object as eventName',
    body: json({ Records: [{ eventName: { $gt: '' } }] }),
    reason: 'not an object-created event',
  },
  {
    name: 'a removed event for the real voucher key',
    body: json({
      Records: [
        { ...withRawKey(`orders%2F${orderId}.pdf`).Records[0], eventName: 's3:ObjectRemoved:Delete' },
      ],
    }),
    reason: 'not an object-created event',
  },
  {
    name: 'no s3 section',
    body: json({ Records: [{ eventName: 's3:ObjectCreated:Put' }] }),
    reason: 'no bucket or key',
  },
  {
    name: 'a key that is not a string',
    body: json(withRawKey(['orders', orderId])),
    reason: 'no bucket or key',
  },
  { name: 'no key', body: json(withRawKey(undefined)), reason: 'no bucket or key' },
  {
    name: 'prototype pollution keys',
    body: `{"__proto__":{"Records":[{"eventName":"s3:ObjectCreated:Put"}]},"constructor":{"prototype":{"x":1}}}`,
    reason: 'no event record',
  },
  {
    name: 'a bad escape in the key',
    body: json(withRawKey('orders%2F%ZZ.pdf')),
    reason: 'key not escaped as MinIO escapes it',
  },
  {
    name: 'a key outside orders/',
    body: json(objectCreated(`other/${orderId}.pdf`)),
    reason: 'not a voucher key',
  },
  { name: 'a key at the root', body: json(objectCreated(`${orderId}.pdf`)), reason: 'not a voucher key' },
  {
    name: 'path traversal',
    body: json(objectCreated('orders/../../etc/passwd.pdf')),
    reason: 'not a voucher key',
  },
  {
    name: 'escaped path traversal',
    body: json(withRawKey('orders%2F..%252F..%252Fsecret.pdf')),
    reason: 'not a voucher key',
  },
  {
    name: 'SQL injection in the order id',
    body: json(objectCreated("orders/x' or '1'='1'; drop table crs.orders;--.pdf")),
    reason: 'not a voucher key',
  },
  {
    name: 'header injection in the order id',
    body: json(withRawKey(`orders%2F${orderId}%0D%0AX-Injected%3A+1.pdf`)),
    reason: 'not a voucher key',
  },
  {
    name: 'a NUL byte after the real key',
    body: json(withRawKey(`orders%2F${orderId}.pdf%00`)),
    reason: 'not a voucher key',
  },
  {
    name: 'an order id too long',
    body: json(objectCreated(`orders/${'a'.repeat(65)}.pdf`)),
    reason: 'not a voucher key',
  },
  {
    name: 'the real voucher key as text/plain',
    body: json(objectCreated(`orders/${orderId}.pdf`)),
    contentType: 'text/plain',
    reason: 'content type is not application/json',
  },
  {
    name: 'the real voucher key without a content type',
    body: json(objectCreated(`orders/${orderId}.pdf`)),
    contentType: undefined,
    reason: 'content type is not application/json',
  },
  {
    name: 'a huge message (5 MB) for the real voucher key',
    body: json({ ...objectCreated(`orders/${orderId}.pdf`), padding: 'x'.repeat(5 * 1024 * 1024) }),
    reason: 'too large',
  },
  {
    name: 'the real voucher key in another bucket',
    body: json(objectCreated(`orders/${orderId}.pdf`, 'other-bucket')),
    reason: 'another bucket',
  },
  {
    name: 'a key for an order that does not exist',
    body: json(objectCreated('orders/no-such-order-0001.pdf')),
    reason: 'object not in the bucket',
  },
  {
    name: 'a forged event for the real order, whose voucher is not stored',
    body: json(objectCreated(`orders/${orderId}.pdf`)),
    reason: 'object not in the bucket',
  },
];

t.test('hostile messages are logged and put aside, and reach no one', async (t) => {
  for (const message of hostile) {
    channel.publish(
      EXCHANGE,
      'vouchers',
      Buffer.isBuffer(message.body) ? message.body : Buffer.from(message.body),
      {
        contentType: 'contentType' in message ? message.contentType : 'application/json',
      },
    );
  }
  const rejected = await waitFor(
    `${hostile.length} messages in ${REJECTED_QUEUE}`,
    async () => {
      const { messageCount } = await channel.checkQueue(REJECTED_QUEUE);
      return messageCount >= hostile.length ? messageCount : undefined;
    },
    20_000,
  );
  t.equal(rejected, hostile.length, 'every hostile message put aside, once');

  const kept: { reason: string; bytes: unknown; body: Buffer }[] = [];
  for (;;) {
    const message = await channel.get(REJECTED_QUEUE, { noAck: true });
    if (!message) break;
    const headers = message.properties.headers ?? {};
    kept.push({
      reason: String(headers['x-crs-rejected-reason']),
      bytes: headers['x-crs-original-bytes'],
      body: message.content,
    });
  }
  t.same(
    kept.map((k) => k.reason).sort(),
    hostile.map((h) => h.reason).sort(),
    'each with the reason it was refused for',
  );
  t.ok(
    kept.every((k) => typeof k.bytes === 'number'),
    'and its original size',
  );
  const huge = kept.find((k) => k.reason === 'too large');
  t.ok(Number(huge?.bytes) > 5_000_000, 'the huge one is recorded with its size');
  t.equal(huge?.body.length, 0, 'but its body is not kept');

  const putAside = logLines.filter((line) => String(line['msg']).includes('put aside'));
  t.equal(putAside.length, hostile.length, 'one warning per hostile message');
  t.ok(
    putAside.every((line) => line['level'] === 40 && typeof line['reason'] === 'string'),
    'warnings that say why',
  );
  t.same(
    logLines.filter((line) => Number(line['level']) >= 50),
    [],
    'no error logged',
  );

  await new Promise((resolve) => setTimeout(resolve, 300));
  t.same(heard, [], 'the SSE subscriber heard nothing');
  t.same(announcements, [], 'nothing relayed to crs.orders');
  t.equal(api.deps.vouchers.state(), 'ok', 'still connected');
  t.equal(
    logLines.filter((line) => line['msg'] === 'listening for voucher notifications').length,
    1,
    'on the same connection (never reconnected)',
  );
  const ready = await http.request('/readyz');
  t.equal(ready.json?.degraded?.rabbitmq, 'ok', '/readyz reports RabbitMQ ok');
});

t.test('the next real voucher still reaches the SSE subscriber and the relay', async (t) => {
  // The store publishes MinIO's genuine notification once the object is stored.
  await bucketClient.putObject('vouchers', `orders/${orderId}.pdf`, Buffer.from('%PDF-1.7'), 8, {
    'Content-Type': 'application/pdf',
  });
  await waitFor('the voucher event', async () => heard.length > 0, 15_000);
  t.same(
    heard.map((h) => h.event),
    ['voucher'],
    'the voucher event arrives, once',
  );
  const event = heard[0]!.data;
  t.equal(event.orderId, orderId, 'for the order');
  t.match(event.url, new RegExp(`/api/orders/${orderId}/voucher\\?expires=\\d+&signature=`));
  await waitFor('the relayed announcement', async () => announcements.length > 0);
  t.same(
    announcements.map((a) => a.routingKey),
    [`order.${orderId}.voucher`],
    'exactly the real voucher is relayed',
  );
  t.equal(JSON.parse(announcements[0]!.body).orderId, orderId);
  const { messageCount } = await channel.checkQueue(REJECTED_QUEUE);
  t.equal(messageCount, 0, 'the real event was not put aside');
});
