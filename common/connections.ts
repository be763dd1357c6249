/**
 * Socket options for Redis and RabbitMQ, from the one NetworkConfig (common/config.ts), so a
 * peer that is gone or stops answering is noticed within seconds by every component. Postgres'
 * are in common/db.ts (pgSocketOptions).
 */
import type { Socket } from 'node:net';
import amqp, { type ChannelModel } from 'amqplib';
import type { RedisOptions } from 'ioredis';
import type { NetworkConfig } from './config.js';
import { withDeadline } from './deadline.js';

/** ioredis: TCP keepalive and a bounded connect (commands get their bound per use). */
export function redisSocketOptions(
  network: NetworkConfig,
): Pick<RedisOptions, 'keepAlive' | 'connectTimeout'> {
  return { keepAlive: network.keepAliveMs, connectTimeout: network.connectTimeoutMs };
}

/**
 * amqplib: the URL with AMQP heartbeats (a broker silent for two intervals closes the
 * connection, which fails whatever waits on it: a publish confirm, a consumer), unless the URL
 * sets its own; and socket options with TCP keepalive and a bounded connect.
 */
export function amqpConnection(url: string, network: NetworkConfig) {
  const withHeartbeat = new URL(url);
  if (!withHeartbeat.searchParams.has('heartbeat')) {
    withHeartbeat.searchParams.set('heartbeat', String(network.amqpHeartbeatSeconds));
  }
  return {
    url: withHeartbeat.toString(),
    socketOptions: {
      timeout: network.connectTimeoutMs,
      keepAlive: true,
      keepAliveDelay: network.keepAliveMs,
    },
  };
}

/**
 * amqp.connect with the whole opening bounded. The socket's timeout covers only the TCP
 * connect; a broker that accepts the connection and then says nothing (hung, or a partition
 * behind a proxy or a load balancer) would keep the AMQP handshake waiting for ever.
 */
export async function connectAmqp(url: string, network: NetworkConfig): Promise<ChannelModel> {
  const target = amqpConnection(url, network);
  const opening = amqp.connect(target.url, target.socketOptions);
  try {
    return await withDeadline(
      opening,
      network.connectTimeoutMs,
      `no AMQP handshake within ${network.connectTimeoutMs} ms`,
    );
  } catch (err) {
    // Opened after all, too late: nobody holds it.
    opening.then(
      (late) => closeAmqp(late),
      () => undefined,
    );
    throw err;
  }
}

/**
 * Closes an AMQP connection without waiting on a broker that may never answer: amqplib's
 * close() waits for Connection.CloseOk and never settles if it does not come (not even once a
 * heartbeat timeout has closed the connection). Past `graceMs` the socket is destroyed.
 */
export async function closeAmqp(connection: ChannelModel, graceMs = 1_000): Promise<void> {
  // A close that fails is as good as done; one that does not end in time is cut short.
  await withDeadline(
    connection.close().catch(() => undefined),
    graceMs,
    'no CloseOk',
  ).catch(() =>
    // amqplib keeps the socket as `stream` on its connection; the typings leave it out.
    (connection.connection as unknown as { stream?: Socket }).stream?.destroy(),
  );
}
