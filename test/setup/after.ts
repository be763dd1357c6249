/** Runs once after the test files (tap's `after`): stops the servers before.ts started. */
import { join } from 'node:path';
import { makeLocalPostgres } from '../../devstack/postgres.js';
import { makeLocalRabbitMq } from '../../devstack/rabbitmq.js';
import { loadOrCreateSecrets } from '../../devstack/secrets.js';
import { TEST_AMQP_PORT, TEST_PG_PORT, harnessDir, readHarness } from './harness.js';

const harness = readHarness();
if (harness.startedServer && !process.env['CRS_TEST_KEEP_PG']) {
  const secrets = await loadOrCreateSecrets(harnessDir());
  const server = makeLocalPostgres({
    dir: join(harnessDir(), 'postgres'),
    port: TEST_PG_PORT,
    superuserPassword: secrets.postgresPassword,
  });
  await server.stop();
}
if (harness.startedRabbitMq && !process.env['CRS_TEST_KEEP_PG']) {
  await makeLocalRabbitMq({ dir: join(harnessDir(), 'rabbitmq'), port: TEST_AMQP_PORT }).stop();
}
