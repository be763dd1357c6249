/**
 * A client opens its voucher stream after its order's 201; under load the voucher can be
 * stored in between, its notification already heard by the API (no one waited) and not yet
 * recorded in the database. The API remembers such events for a while and hands them to the
 * listener that comes for them, once the bucket confirms the object; a forged event for an
 * object that is not there still reaches no one.
 */
import amqp from 'amqplib';
import t from 'tap';
import { makeVoucherEvents } from '../../api/vouchers/voucherEvents.js';
import type { VoucherStored } from '../../bucket/minioEvent.js';
import { makeObjectStore } from '../../common/objectStore.js';
import { loadRendererConfig } from '../../common/config.js';
import { makeLogger } from '../../common/log.js';
import { minioObjectCreated } from '../../devstack/minioEvents.js';
import { waitFor } from '../support/cdc.js';
import { makeTestDatabase } from '../support/database.js';
import { rendererEnv } from '../support/renderer.js';
import { makeTestVhost, startTestS3 } from '../support/services.js';

const EXCHANGE = 'crs.vouchers';
const db = await makeTestDatabase(t);
const amqpUrl = await makeTestVhost(t);
const s3 = await startTestS3(t, { amqpUrl, exchange: EXCHANGE, bucket: true });
const bucketClient = s3.client;
const store = makeObjectStore(loadRendererConfig(rendererEnv(db, s3.env)).objectStore);

const events = makeVoucherEvents({
  amqpUrl,
  exchange: EXCHANGE,
  log: makeLogger({ level: 'silent', component: 'test' }),
  store,
});
t.teardown(() => events.close());
await waitFor('the voucher consumer to connect', async () => events.state() === 'ok');

/** The events a listener gets within `ms` of listening. */
async function listenFor(orderId: string, ms: number): Promise<VoucherStored[]> {
  const got: VoucherStored[] = [];
  const stop = events.listen(orderId, (event) => got.push(event));
  await new Promise((resolve) => setTimeout(resolve, ms));
  stop();
  return got;
}

t.test('stored and heard before anyone listened: the late listener still gets it', async (t) => {
  await bucketClient.putObject('vouchers', 'orders/late-listener-1.pdf', Buffer.from('%PDF-1.7'), 8, {
    'Content-Type': 'application/pdf',
  });
  // Long enough for the notification to go by with no one listening.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const got = await listenFor('late-listener-1', 1_000);
  t.equal(got.length, 1, 'delivered at once, not at the next database look');
  t.equal(got[0]?.key, 'orders/late-listener-1.pdf');
});

t.test('a forged event for an object not in the bucket is not remembered into a delivery', async (t) => {
  const connection = await amqp.connect(amqpUrl);
  t.teardown(() => connection.close());
  const channel = await connection.createConfirmChannel();
  const forged = minioObjectCreated({
    bucket: 'vouchers',
    key: 'orders/forged-late-1.pdf',
    size: 8,
    eTag: '0123456789abcdef0123456789abcdef',
    contentType: 'application/pdf',
    userMetadata: {},
    eventTime: new Date(),
    principal: 'someone',
    sourceIp: '127.0.0.1',
    endpoint: 'http://127.0.0.1',
    userAgent: 'forger',
    requestId: 'FORGED',
    deploymentId: 'forged',
    sequencer: '1',
  });
  channel.publish(EXCHANGE, 'vouchers', Buffer.from(JSON.stringify(forged.body)), {
    contentType: forged.contentType,
    headers: forged.headers,
  });
  await channel.waitForConfirms();
  await new Promise((resolve) => setTimeout(resolve, 500));
  t.same(await listenFor('forged-late-1', 1_000), [], 'nothing delivered');
});

t.test('an order whose event was never heard gets nothing from memory', async (t) => {
  t.same(await listenFor('never-stored-1', 300), []);
});
