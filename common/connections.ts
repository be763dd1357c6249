/**
 * Socket options for Redis and RabbitMQ, from the one NetworkConfig (common/config.ts), so a
 * peer that is gone or stops answering is noticed within seconds by every component. Postgres'
 * are in common/db.ts (pgSocketOptions).
 */
import type { RedisOptions } from 'ioredis';
import type { NetworkConfig } from './config.js';

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
