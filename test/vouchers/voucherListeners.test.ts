/**
 * The listener registry on its own: delivery to whoever waits for an order, an unsubscribe that
 * holds, a listener that throws harming no other, and events heard while no one waited handed
 * to a late listener only once the bucket (the local S3 store) confirms the object.
 */
import t from 'tap';
import { makeVoucherListeners } from '../../api/vouchers/voucherListeners.js';
import { makeStoredConfirmer } from '../../bucket/confirmStored.js';
import type { VoucherStored } from '../../bucket/minioEvent.js';
import { makeLogger } from '../../common/log.js';
import { makeObjectStore, voucherKey } from '../../common/objectStore.js';
import { makeTestVhost, startTestS3 } from '../support/services.js';

const amqpUrl = await makeTestVhost(t);
const s3 = await startTestS3(t, { amqpUrl, bucket: true });
const log = makeLogger({ level: 'silent', component: 'test' });
const bucket = makeObjectStore({
  endpoint: s3.url,
  accessKey: s3.env['S3_ACCESS_KEY']!,
  secretKey: s3.env['S3_SECRET_KEY']!,
  bucket: 'vouchers',
  region: 'us-east-1',
});
const listeners = makeVoucherListeners({ confirm: makeStoredConfirmer({ store: bucket, log }), log });

const eventFor = (orderId: string): VoucherStored => ({
  orderId,
  key: voucherKey(orderId),
  bucket: 'vouchers',
  eventTime: new Date().toISOString(),
});
const store = (orderId: string) =>
  s3.client.putObject('vouchers', voucherKey(orderId), Buffer.from('%PDF-1.7'), 8);

t.test('a delivered event reaches every listener of its order, and only them', async (t) => {
  const got: string[] = [];
  const stopA = listeners.listen('listeners-a-1', (event) => got.push(`a:${event.orderId}`));
  const stopB = listeners.listen('listeners-a-1', () => got.push('b'));
  const stopOther = listeners.listen('listeners-b-1', () => got.push('other'));
  t.same(listeners.waiting().sort(), ['listeners-a-1', 'listeners-b-1']);
  listeners.deliver(eventFor('listeners-a-1'));
  t.same(got, ['a:listeners-a-1', 'b']);
  stopA();
  stopB();
  stopOther();
  t.same(listeners.waiting(), [], 'no one waits once all unsubscribed');
  listeners.deliver(eventFor('listeners-a-1'));
  t.equal(got.length, 2, 'nothing after the unsubscribe');
});

t.test('a listener that throws does not keep the event from the others', async (t) => {
  const got: string[] = [];
  const stopThrowing = listeners.listen('listeners-throw-1', () => {
    throw new Error('a broken stream');
  });
  const stop = listeners.listen('listeners-throw-1', (event) => got.push(event.orderId));
  t.doesNotThrow(() => listeners.deliver(eventFor('listeners-throw-1')));
  t.same(got, ['listeners-throw-1']);
  stopThrowing();
  stop();
});

/** The events a listener gets within `ms` of listening. */
async function listenFor(orderId: string, ms = 500) {
  const got: string[] = [];
  const stop = listeners.listen(orderId, (event) => got.push(event.key));
  await new Promise((resolve) => setTimeout(resolve, ms));
  stop();
  return got;
}

t.test('an event remembered while no one waited reaches a late listener once confirmed', async (t) => {
  await store('listeners-late-1');
  listeners.remember(eventFor('listeners-late-1'));
  t.same(await listenFor('listeners-late-1'), ['orders/listeners-late-1.pdf']);
});

t.test('a remembered event whose object is not in the bucket reaches no one', async (t) => {
  listeners.remember(eventFor('listeners-forged-1'));
  t.same(await listenFor('listeners-forged-1'), []);
});

t.test('a listener gone before the confirmation gets nothing', async (t) => {
  await store('listeners-gone-1');
  listeners.remember(eventFor('listeners-gone-1'));
  const got: string[] = [];
  listeners.listen('listeners-gone-1', (event) => got.push(event.key))();
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.same(got, []);
});
