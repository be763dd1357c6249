/**
 * A CDC consumer told to stop while it is still starting (creating its slot, reconciling: what
 * `crs start` does when Ctrl-C comes early, or Kubernetes when it deletes a pod at once) stops
 * then, instead of going on to stream until the stream's silence watchdog ends it.
 */
import t from 'tap';
import { startCdc } from '../../cdc/service.js';
import { loadCdcConfig } from '../../common/config.js';
import { makeLogger } from '../../common/log.js';
import { cdcEnv } from '../support/cdc.js';
import { makeTestDatabase } from '../support/database.js';
import { makeTestVhost, startTestRedis } from '../support/services.js';

const db = await makeTestDatabase(t);
const redis = await startTestRedis(t);
const amqpUrl = await makeTestVhost(t);

t.test('stopped during startup: it never streams, and stops within a second or two', async (t) => {
  const config = loadCdcConfig(cdcEnv(db, { redisUrl: redis.url, amqpUrl }));
  const cdc = await startCdc(config, makeLogger({ level: 'silent', component: 'cdc' }));
  let streamed = false;
  const watch = setInterval(() => (streamed ||= cdc.consumer.status().streaming), 5);
  t.teardown(() => clearInterval(watch));
  const started = Date.now();
  await cdc.stop();
  const tookMs = Date.now() - started;
  clearInterval(watch);
  t.equal(cdc.consumer.status().role, 'stopped');
  t.notOk(streamed, 'it did not open the stream after being told to stop');
  // The bound is the point (before, it streamed until the watchdog, CDC_STREAM_TIMEOUT_MS).
  t.ok(tookMs < config.streamTimeoutMs / 2, `stopped in ${tookMs} ms`);
});
