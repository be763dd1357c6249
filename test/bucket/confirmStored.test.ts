/**
 * Confirming a voucher event against the bucket, on the local S3 store (the same code path as
 * MinIO): an object that is there confirms its event, one that is not refutes it, a stored
 * object stays confirmed, and a bucket that cannot be asked does not lose a real voucher.
 */
import { createServer, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import t from 'tap';
import { makeStoredConfirmer } from '../../bucket/confirmStored.js';
import type { VoucherStored } from '../../bucket/minioEvent.js';
import { makeLogger } from '../../common/log.js';
import { makeObjectStore, voucherKey } from '../../common/objectStore.js';
import { freePort, makeTestVhost, startTestS3 } from '../support/services.js';

const amqpUrl = await makeTestVhost(t);
const s3 = await startTestS3(t, { amqpUrl, bucket: true });
const storeAt = (endpoint: string) =>
  makeObjectStore({
    endpoint,
    accessKey: s3.env['S3_ACCESS_KEY']!,
    secretKey: s3.env['S3_SECRET_KEY']!,
    bucket: 'vouchers',
    region: 'us-east-1',
  });
const silent = makeLogger({ level: 'silent', component: 'test' });
const confirm = makeStoredConfirmer({ store: storeAt(s3.url), log: silent });

const eventFor = (orderId: string, bucket = 'vouchers'): VoucherStored => ({
  orderId,
  key: voucherKey(orderId),
  bucket,
  eventTime: new Date().toISOString(),
});
const store = (orderId: string) =>
  s3.client.putObject('vouchers', voucherKey(orderId), Buffer.from('%PDF-1.7'), 8, {
    'Content-Type': 'application/pdf',
  });

t.test('an object in the bucket confirms its event, unchanged', async (t) => {
  await store('confirm-stored-1');
  const event = eventFor('confirm-stored-1');
  t.same(await confirm(event), { ok: true, event });
});

t.test('an object not in the bucket refutes it, until it is stored', async (t) => {
  const event = eventFor('confirm-later-1');
  t.same(await confirm(event), { ok: false, reason: 'object not in the bucket' });
  await store('confirm-later-1');
  t.same(await confirm(event), { ok: true, event }, 'a miss is not remembered');
});

t.test('an object seen stored stays confirmed (a voucher, once stored, stays)', async (t) => {
  await store('confirm-kept-1');
  const event = eventFor('confirm-kept-1');
  const [first, second] = await Promise.all([confirm(event), confirm(event)]);
  t.ok(first.ok && second.ok, 'both of two events at once');
  await s3.client.removeObject('vouchers', voucherKey('confirm-kept-1'));
  t.same(await confirm(event), { ok: true, event }, 'not asked again');
});

t.test('an event for another bucket is refuted', async (t) => {
  await store('confirm-other-1');
  t.same(await confirm(eventFor('confirm-other-1', 'elsewhere')), { ok: false, reason: 'another bucket' });
});

t.test('without a bucket configured every event is believed', async (t) => {
  const event = eventFor('confirm-none-1');
  t.same(await makeStoredConfirmer({ store: undefined, log: silent })(event), { ok: true, event });
});

/** A logger that keeps every line it writes. */
function recordingLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, log: makeLogger({ level: 'warn', component: 'test', destination }) };
}

t.test('a bucket that cannot be reached: the event is believed, with a warning', async (t) => {
  const { lines, log } = recordingLogger();
  const unreachable = makeStoredConfirmer({ store: storeAt(`http://127.0.0.1:${await freePort()}`), log });
  const event = eventFor('confirm-away-1');
  t.same(await unreachable(event), { ok: true, event });
  t.same(
    lines.map((line) => line['msg']),
    ['voucher event not confirmed in the bucket'],
  );
});

t.test('a bucket that does not answer: believed after the deadline, not held', async (t) => {
  const sockets = new Set<Socket>();
  const silentServer = createServer((socket) => sockets.add(socket)); // accepts, never answers
  await new Promise<void>((resolve) => silentServer.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    silentServer.close();
  });
  const { port } = silentServer.address() as { port: number };
  const { lines, log } = recordingLogger();
  const stalled = makeStoredConfirmer({ store: storeAt(`http://127.0.0.1:${port}`), log });
  const started = Date.now();
  const event = eventFor('confirm-stall-1');
  t.same(await stalled(event), { ok: true, event });
  t.ok(Date.now() - started < 5_000, `answered in ${Date.now() - started} ms`);
  t.equal(lines.length, 1, 'one warning');
});
