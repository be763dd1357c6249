/**
 * The whole system for one test file, on real services: a database of its own, a redis-server,
 * a RabbitMQ virtual host, the S3 store, CDC and the renderer in-process, and the API on a
 * socket wired to all of them.
 */
import type { Test } from 'tap';
import { makeTestDatabase } from './database.js';
import { startTestApi } from './api.js';
import { startTestCdc } from './cdc.js';
import { startTestRenderer } from './renderer.js';
import { makeTestVhost, startTestRedis, startTestS3 } from './services.js';

/** `renderer: false` leaves the renderer to the test (startTestRenderer), e.g. to hold orders pending. */
export async function startWholeSystem(t: Test, options: { renderer?: boolean } = {}) {
  const db = await makeTestDatabase(t);
  const redis = await startTestRedis(t);
  const amqpUrl = await makeTestVhost(t);
  const s3 = await startTestS3(t, { amqpUrl });
  const cdc = await startTestCdc(t, db, { redisUrl: redis.url, amqpUrl });
  const renderer = options.renderer === false ? undefined : await startTestRenderer(t, db, s3.env);
  const api = await startTestApi(t, db, { REDIS_URL: redis.url, AMQP_URL: amqpUrl, ...s3.env });
  return { db, redis, amqpUrl, s3, cdc, renderer, ...api };
}
