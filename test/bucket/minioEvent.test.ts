/**
 * The pure reading of MinIO's bucket notification, on MinIO's own message format: the project's
 * copy of the contract's fixture (test/vouchers/fixtures), with only the fields under test
 * changed. Each way a message can fail to be a voucher's object-created event has its reason.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import {
  MAX_NOTIFICATION_BYTES,
  parseBucketNotification,
  readBucketNotification,
} from '../../bucket/minioEvent.js';
import { packageRoot } from '../../common/paths.js';

const fixtureText = await readFile(
  join(packageRoot, 'test', 'vouchers', 'fixtures', 'minio-amqp-object-created.json'),
  'utf8',
);
interface MinioMessage {
  Records: {
    eventName: unknown;
    eventTime: unknown;
    s3: { bucket: { name: unknown }; object: { key: unknown } };
  }[];
}
/** The fixture, as a fresh object, with `change` applied to its one record. */
function fixtureWith(change: (record: MinioMessage['Records'][number]) => void = () => {}): Buffer {
  const message = JSON.parse(fixtureText) as MinioMessage;
  change(message.Records[0]!);
  return Buffer.from(JSON.stringify(message));
}
const forVoucher = (key = 'orders%2Forder-0042.pdf') => fixtureWith((record) => (record.s3.object.key = key));
const reasonOf = (content: Buffer, contentType?: string | null) => {
  const reading = readBucketNotification(content, contentType);
  return reading.ok ? 'read' : reading.reason;
};

t.test("MinIO's message for a voucher object is read into the stored voucher", async (t) => {
  t.same(readBucketNotification(forVoucher(), 'application/json'), {
    ok: true,
    event: {
      orderId: 'order-0042',
      key: 'orders/order-0042.pdf',
      bucket: 'vouchers',
      eventTime: '2026-11-28T10:47:54.912Z',
    },
  });
  t.equal(parseBucketNotification(forVoucher())?.orderId, 'order-0042', 'the same without a content type');
});

t.test("the fixture's own object is not a voucher: its key is outside orders/", async (t) => {
  t.equal(reasonOf(Buffer.from(fixtureText), 'application/json'), 'not a voucher key');
  t.equal(parseBucketNotification(Buffer.from(fixtureText)), undefined);
});

t.test("the key is unescaped as Go's url.QueryEscape escaped it", async (t) => {
  t.equal(readBucketNotification(forVoucher('orders%2Fa_b-c%2D0042.pdf')).ok, true, '%2D is a dash');
  t.equal(reasonOf(forVoucher('orders%2Forder+0042.pdf')), 'not a voucher key', "'+' is a space");
  t.equal(reasonOf(forVoucher('orders%2F%ZZ.pdf')), 'key not escaped as MinIO escapes it');
  t.equal(reasonOf(forVoucher('orders%2F..%252Fsecret.pdf')), 'not a voucher key', 'escaped once only');
});

t.test('only application/json is read, when the content type is given', async (t) => {
  t.equal(reasonOf(forVoucher(), 'application/json; charset=utf-8'), 'read');
  t.equal(reasonOf(forVoucher(), 'Application/JSON'), 'read');
  t.equal(reasonOf(forVoucher(), 'text/plain'), 'content type is not application/json');
  t.equal(reasonOf(forVoucher(), 'application/jsonp'), 'content type is not application/json');
  t.equal(reasonOf(forVoucher(), null), 'content type is not application/json', 'none at all');
  t.equal(reasonOf(forVoucher(), undefined), 'read', 'not checked when the caller has only a body');
});

t.test('each way of not being a voucher event has its reason', async (t) => {
  const cases: [string, Buffer, string][] = [
    ['over the size bound', Buffer.alloc(MAX_NOTIFICATION_BYTES + 1, 0x20), 'too large'],
    ['not JSON', Buffer.from('{"Records":'), 'not JSON'],
    ['no records', Buffer.from('{"Records":[]}'), 'no event record'],
    ['a record that is not an object', Buffer.from('{"Records":["x"]}'), 'no event record'],
    [
      'a removed event',
      fixtureWith((record) => {
        record.eventName = 's3:ObjectRemoved:Delete';
        record.s3.object.key = 'orders%2Forder-0042.pdf';
      }),
      'not an object-created event',
    ],
    ['no bucket name', fixtureWith((record) => (record.s3.bucket.name = 7)), 'no bucket or key'],
    [
      'a key that is not a string',
      fixtureWith((record) => (record.s3.object.key = null)),
      'no bucket or key',
    ],
    ['an order id too short', forVoucher('orders%2Fshort.pdf'), 'not a voucher key'],
  ];
  for (const [name, content, reason] of cases) t.equal(reasonOf(content, 'application/json'), reason, name);
});

t.test('an event time that is not a timestamp is replaced by the time of reading', async (t) => {
  const before = Date.now();
  const reading = readBucketNotification(
    fixtureWith((record) => {
      record.s3.object.key = 'orders%2Forder-0042.pdf';
      record.eventTime = 'yesterday, roughly';
    }),
  );
  const time = reading.ok ? Date.parse(reading.event.eventTime) : NaN;
  t.ok(time >= before && time <= Date.now(), 'now');
});
