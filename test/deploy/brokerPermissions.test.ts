/**
 * RabbitMQ least privilege, on the real broker: the three users of deploy/kubernetes/base/
 * rabbitmq/users.yaml, with exactly the permissions the rendered prod overlay gives them, run
 * the code that uses them. MinIO's notifications (the local S3 store, which declares and
 * publishes as MinIO's AMQP target does) reach the API's queues; the API relays a voucher to
 * crs.orders and puts a bad notification aside; the CDC's change feed publishes. Then each user
 * is refused what is not its job (ACCESS_REFUSED, 403).
 */
import { join } from 'node:path';
import amqp from 'amqplib';
import t from 'tap';
import { makeVoucherEvents } from '../../api/vouchers/voucherEvents.js';
import { ORDERS_EXCHANGE, REJECTED_QUEUE } from '../../bucket/voucherRelay.js';
import { makeChangeFeed, CHANGES_EXCHANGE } from '../../cdc/changeFeed.js';
import { readChangeStream as readStreamConfig, readNetwork } from '../../common/config.js';
import { readChangeStream } from '../../cdc/changeStream.js';
import { makeLogger } from '../../common/log.js';
import { packageRoot } from '../../common/paths.js';
import { waitFor } from '../support/cdc.js';
import { makeTestUser, makeTestVhost, startTestS3, subscribe } from '../support/services.js';
import { at, renderKustomization } from './objects.js';

const EXCHANGE = 'crs.vouchers';
const silent = makeLogger({ level: 'silent', component: 'test' });
const network = readNetwork({});

const prod = await renderKustomization(join(packageRoot, 'deploy', 'kubernetes', 'overlays', 'prod'));
const permissionsOf = (user: string) => {
  const permission = prod.find(
    (o) => o.kind === 'Permission' && at(o, 'spec', 'userReference', 'name') === user,
  );
  const given = at(permission, 'spec', 'permissions') as { configure: string; write: string; read: string };
  if (!given) throw new Error(`no Permission for RabbitMQ user ${user} in the prod overlay`);
  return given;
};

const vhostUrl = await makeTestVhost(t);
const urls = {
  api: await makeTestUser(t, vhostUrl, 'crs-api', permissionsOf('crs-api')),
  cdc: await makeTestUser(t, vhostUrl, 'crs-cdc', permissionsOf('crs-cdc')),
  minio: await makeTestUser(t, vhostUrl, 'crs-minio', permissionsOf('crs-minio')),
  feed: await makeTestUser(t, vhostUrl, 'crs-feed', permissionsOf('crs-feed')),
};
if (!urls.api || !urls.cdc || !urls.minio || !urls.feed) {
  t.fail('these tests need the harness own RabbitMQ node (rabbitmqctl), not a given AMQP_URL');
  process.exit(1);
}
const {
  api: apiUrl,
  cdc: cdcUrl,
  minio: minioUrl,
  feed: feedUrl,
} = urls as Record<keyof typeof urls, string>;

/** Whether `attempt` on a fresh channel of `url` is refused by the broker's access control. */
async function refused(url: string, attempt: (channel: amqp.Channel) => Promise<unknown>): Promise<boolean> {
  const connection = await amqp.connect(url);
  try {
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    await attempt(channel);
    return false;
  } catch (err) {
    if (/ACCESS_REFUSED|403/.test(String((err as Error).message))) return true;
    throw err;
  } finally {
    await connection.close().catch(() => undefined);
  }
}

t.test('each component does its work under its own permissions', async (t) => {
  const events = makeVoucherEvents({ amqpUrl: apiUrl, network, exchange: EXCHANGE, log: silent });
  t.teardown(() => events.close());
  await waitFor('the API voucher consumer to connect as crs-api', async () => events.state() === 'ok');

  const relayed: string[] = [];
  await subscribe(t, vhostUrl, { name: ORDERS_EXCHANGE, type: 'topic' }, (_body, key) => relayed.push(key));
  const heard: string[] = [];
  const stop = events.listen('permission-1', (event) => heard.push(event.key));
  t.teardown(stop);

  // MinIO's side: the local store notifies as crs-minio (declare the exchange, publish, confirm).
  const s3 = await startTestS3(t, { amqpUrl: minioUrl, exchange: EXCHANGE, bucket: true });
  await s3.client.putObject('vouchers', 'orders/permission-1.pdf', Buffer.from('%PDF-1.7'), 8, {
    'Content-Type': 'application/pdf',
  });
  await waitFor(
    'the API to hear the voucher and relay it',
    async () => heard.length === 1 && relayed.includes('order.permission-1.voucher'),
  );
  t.same(heard, ['orders/permission-1.pdf'], 'the waiting listener heard it through its own queue');
  t.ok(relayed.includes('order.permission-1.voucher'), 'relayed to crs.orders by crs-api');

  // A notification that is not a voucher event: put aside through the default exchange.
  const minio = await amqp.connect(minioUrl);
  t.teardown(() => minio.close());
  const publisher = await minio.createConfirmChannel();
  publisher.publish(EXCHANGE, 'vouchers', Buffer.from('not json'), { contentType: 'application/json' });
  await publisher.waitForConfirms();
  const admin = await amqp.connect(vhostUrl);
  t.teardown(() => admin.close());
  const look = await admin.createChannel();
  await waitFor('the bad notification to be put aside', async () => {
    return (await look.checkQueue(REJECTED_QUEUE)).messageCount === 1;
  });
  t.pass('crs-api put the bad notification in crs.vouchers.rejected');

  const stream = readStreamConfig({});
  const feed = makeChangeFeed(cdcUrl, silent, network, { source: 'crs://test', stream });
  t.teardown(() => feed.close());
  const published: string[] = [];
  await subscribe(t, vhostUrl, { name: CHANGES_EXCHANGE, type: 'topic' }, (_body, key) =>
    published.push(key),
  );
  await feed.publish([
    {
      id: '0/16B3748-0',
      type: 'stock.changed',
      lsn: '0/16B3748',
      commitTime: new Date().toISOString(),
      data: { productId: 'default', available: 1 },
    },
  ]);
  await waitFor('the change event', async () => published.length === 1);
  t.same(published, ['stock.changed'], 'crs-cdc published the change feed, confirmed');
  const replayed: string[] = [];
  await readChangeStream({
    url: feedUrl,
    network,
    stream: stream.name!,
    from: 'first',
    follow: false,
    onEvent: ({ event }) => void replayed.push(event.id),
  });
  t.same(replayed, ['0/16B3748-0'], 'crs-cdc declared the stream and bound it; crs-feed replayed it');
});

t.test('each user is refused what is not its job', async (t) => {
  t.ok(
    await refused(minioUrl, (ch) =>
      ch.assertQueue('crs.vouchers.relay', { durable: true, arguments: { 'x-queue-type': 'quorum' } }),
    ),
    'crs-minio may not declare (or read) the API queues',
  );
  t.ok(
    await refused(minioUrl, (ch) => ch.assertExchange(CHANGES_EXCHANGE, 'topic', { durable: true })),
    'crs-minio may not touch the change feed',
  );
  t.ok(
    await refused(cdcUrl, async (ch) => {
      const { queue } = await ch.assertQueue('', { exclusive: true });
      return queue;
    }),
    'crs-cdc may not even make a queue of its own (it reads nothing)',
  );
  t.ok(
    await refused(cdcUrl, (ch) => ch.assertExchange(EXCHANGE, 'fanout', { durable: true })),
    'crs-cdc may not declare the voucher exchange',
  );
  t.ok(
    await refused(apiUrl, (ch) => ch.assertExchange(CHANGES_EXCHANGE, 'topic', { durable: true })),
    'crs-api may not declare the change feed',
  );
  t.ok(
    await refused(apiUrl, async (ch) => {
      const { queue } = await ch.assertQueue('', { exclusive: true });
      await ch.bindQueue(queue, CHANGES_EXCHANGE, '#');
    }),
    'crs-api may not listen to the change feed',
  );
  t.ok(
    await refused(apiUrl, async (ch) => {
      await ch.checkExchange(EXCHANGE);
      const confirm = ch as amqp.Channel;
      confirm.publish(EXCHANGE, 'vouchers', Buffer.from('{}'));
      // A refused publish closes the channel; a round trip after it surfaces the error.
      await ch.checkExchange(EXCHANGE);
    }),
    'crs-api may not forge a bucket notification',
  );
  t.ok(
    await refused(feedUrl, async (ch) => {
      await ch.checkExchange(CHANGES_EXCHANGE);
      ch.publish(CHANGES_EXCHANGE, 'order.created', Buffer.from('{}'));
      await ch.checkExchange(CHANGES_EXCHANGE);
    }),
    'crs-feed may not forge a change event',
  );
  t.ok(
    await refused(feedUrl, (ch) => ch.assertQueue('crs.changes.stream.copy', { durable: true })),
    'crs-feed may not declare anything',
  );
  t.ok(
    await refused(feedUrl, (ch) => ch.consume('crs.vouchers.relay', () => undefined)),
    'crs-feed may read the stream only',
  );
});
