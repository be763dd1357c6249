/**
 * Redis and RabbitMQ for one test file: a redis-server of its own (so a test may stop it, and
 * its keys never meet another file's), and a RabbitMQ virtual host of its own on the test node.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { Client } from 'minio';
import type { Test } from 'tap';
import { makeLocalRabbitMq } from '../../devstack/rabbitmq.js';
import { makeLocalRedis, type LocalRedis } from '../../devstack/redis.js';
import type { StoreKey } from '../../devstack/s3Gate.js';
import { startS3Store } from '../../devstack/s3Store.js';
import { makeLogger } from '../../common/log.js';
import { TEST_AMQP_PORT, harnessDir, readHarness } from '../setup/harness.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startTestRedis(t: Test): Promise<LocalRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'crs-redis-'));
  const redis = makeLocalRedis({ dir, port: await freePort(), persist: false });
  await redis.start();
  t.teardown(async () => {
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return redis;
}

/**
 * A fresh virtual host on the project's test RabbitMQ node, deleted when the file ends.
 * With a given AMQP_URL (no rabbitmqctl there) the given virtual host is shared.
 */
export async function makeTestVhost(t: Test): Promise<string> {
  const harness = readHarness();
  if (!harness.ownRabbitMq) return harness.amqpUrl;
  const node = makeLocalRabbitMq({ dir: join(harnessDir(), 'rabbitmq'), port: TEST_AMQP_PORT });
  const vhost = `t_${randomBytes(6).toString('hex')}`;
  await node.ctl(['add_vhost', vhost]);
  await node.ctl(['set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*']);
  t.teardown(() => node.ctl(['delete_vhost', vhost]).catch(() => ''));
  const url = new URL(harness.amqpUrl);
  url.pathname = '/' + encodeURIComponent(vhost);
  return url.toString();
}

/**
 * A RabbitMQ user of this test's own on the test node, with the given permissions in the
 * virtual host of `vhostUrl` (from makeTestVhost), deleted when the file ends; the URL it
 * connects with. Needs the harness's own node (rabbitmqctl): undefined on a given AMQP_URL.
 */
export async function makeTestUser(
  t: Test,
  vhostUrl: string,
  name: string,
  permissions: { configure: string; write: string; read: string },
): Promise<string | undefined> {
  if (!readHarness().ownRabbitMq) return undefined;
  const node = makeLocalRabbitMq({ dir: join(harnessDir(), 'rabbitmq'), port: TEST_AMQP_PORT });
  const url = new URL(vhostUrl);
  const vhost = decodeURIComponent(url.pathname.slice(1));
  const user = `${name}-${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('base64url');
  await node.ctl(['add_user', user, password]);
  t.teardown(() => node.ctl(['delete_user', user]).catch(() => ''));
  await node.ctl([
    'set_permissions',
    '-p',
    vhost,
    user,
    permissions.configure,
    permissions.write,
    permissions.read,
  ]);
  url.username = encodeURIComponent(user);
  url.password = encodeURIComponent(password);
  return url.toString();
}

/**
 * A local S3 store of this file's own (in-process), publishing to the given RabbitMQ, with a
 * client of the store's admin key; `bucket: true` makes the vouchers bucket at once.
 */
export async function startTestS3(
  t: Test,
  options: { amqpUrl: string; exchange?: string; bucket?: boolean; roleKeys?: StoreKey[] },
): Promise<{ url: string; env: Record<string, string>; client: Client }> {
  const dir = await mkdtemp(join(tmpdir(), 'crs-s3-'));
  const accessKey = `AK${randomBytes(8).toString('hex').toUpperCase()}`;
  const secretKey = randomBytes(24).toString('base64url');
  const store = await startS3Store({
    port: await freePort(),
    directory: dir,
    accessKey,
    secretKey,
    amqpUrl: options.amqpUrl,
    ...(options.roleKeys && { roleKeys: options.roleKeys }),
    exchange: options.exchange ?? 'crs.vouchers',
    routingKey: 'vouchers',
    log: makeLogger({ level: 'silent', component: 's3-store' }),
  });
  t.teardown(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const env = {
    S3_ENDPOINT: store.url,
    S3_ACCESS_KEY: accessKey,
    S3_SECRET_KEY: secretKey,
    S3_BUCKET: 'vouchers',
  };
  const client = s3Client(env);
  if (options.bucket) await client.makeBucket('vouchers');
  return { url: store.url, env, client };
}

/** A minio client for a test S3 store (to look into the bucket). */
export function s3Client(env: Record<string, string>): Client {
  const url = new URL(env['S3_ENDPOINT'] as string);
  return new Client({
    endPoint: url.hostname,
    port: Number(url.port),
    useSSL: false,
    accessKey: env['S3_ACCESS_KEY'] as string,
    secretKey: env['S3_SECRET_KEY'] as string,
    pathStyle: true,
  });
}

/**
 * A subscriber bound before anything happens, so it hears every message: a queue of its own
 * on `exchange` (declared as the publisher declares it), each message handed to `onMessage`
 * parsed as JSON, with its routing key. Closed when the test ends.
 */
export async function subscribe(
  t: Test,
  amqpUrl: string,
  exchange: { name: string; type: 'topic' | 'fanout'; bindingKey?: string },
  onMessage: (body: unknown, routingKey: string) => void,
): Promise<void> {
  const connection = await amqp.connect(amqpUrl);
  t.teardown(() => connection.close());
  const channel = await connection.createChannel();
  await channel.assertExchange(exchange.name, exchange.type, { durable: true });
  const { queue } = await channel.assertQueue('', { exclusive: true });
  await channel.bindQueue(
    queue,
    exchange.name,
    exchange.bindingKey ?? (exchange.type === 'topic' ? '#' : ''),
  );
  await channel.consume(queue, (message) => {
    if (!message) return;
    onMessage(JSON.parse(message.content.toString()), message.fields.routingKey);
    channel.ack(message);
  });
}
