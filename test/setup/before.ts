/**
 * Runs once before the test files (tap's `before`): a real Postgres with wal_level=logical
 * (the one DATABASE_URL names, as a superuser, or the project's own test instance on its own
 * port), the roles, and a template database migrated once that every test file clones.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { runMigrations } from '../../migrations/migrateDatabase.js';
import { loadMigrateConfig } from '../../common/config.js';
import { makeLogger } from '../../common/log.js';
import { bootstrapDatabase } from '../../devstack/bootstrap.js';
import { makeLocalPostgres } from '../../devstack/postgres.js';
import { makeLocalRabbitMq } from '../../devstack/rabbitmq.js';
import { loadOrCreateSecrets } from '../../devstack/secrets.js';
import {
  TEMPLATE_DATABASE,
  TEST_AMQP_PORT,
  TEST_PG_PORT,
  harnessDir,
  harnessFile,
  type Harness,
} from './harness.js';

const started = Date.now();
const dir = harnessDir();
await mkdir(dir, { recursive: true });
const secrets = await loadOrCreateSecrets(dir);

let superuserUrl = process.env['DATABASE_URL'];
let startedServer = false;
if (!superuserUrl) {
  const server = makeLocalPostgres({
    dir: join(dir, 'postgres'),
    port: TEST_PG_PORT,
    superuserPassword: secrets.postgresPassword,
  });
  // A fresh cluster every run: no state, and no password, left over from an earlier one.
  await server.destroy();
  startedServer = (await server.start()) === 'started';
  superuserUrl = server.superuserUrl;
}

const admin = new pg.Client({ connectionString: superuserUrl });
await admin.connect();
const { rows } = await admin.query<{ wal_level: string }>('show wal_level');
if (rows[0]?.wal_level !== 'logical') {
  throw new Error(`the test Postgres must run with wal_level=logical (it has ${rows[0]?.wal_level})`);
}
// Leftovers of an interrupted run (test databases are named t_...).
const leftovers = await admin.query<{ datname: string }>(
  `select datname from pg_database where datname like 't\\_%' or datname = $1`,
  [TEMPLATE_DATABASE],
);
for (const { datname } of leftovers.rows) {
  await admin.query(`drop database if exists ${admin.escapeIdentifier(datname)} with (force)`);
}
await admin.end();

const passwords = {
  owner: secrets.ownerPassword,
  api: secrets.apiPassword,
  cdc: secrets.cdcPassword,
  renderer: secrets.rendererPassword,
};
const urls = await bootstrapDatabase(superuserUrl, TEMPLATE_DATABASE, passwords);
// Exactly what `crs migrate` does, default product included.
await runMigrations(
  loadMigrateConfig({ DATABASE_URL: urls.owner }),
  makeLogger({ level: 'silent', component: 'migrate' }),
);

let amqpUrl = process.env['AMQP_URL'];
let startedRabbitMq = false;
if (!amqpUrl) {
  const rabbitmq = makeLocalRabbitMq({ dir: join(dir, 'rabbitmq'), port: TEST_AMQP_PORT });
  startedRabbitMq = (await rabbitmq.start()) === 'started';
  amqpUrl = rabbitmq.url;
}

const harness: Harness = {
  superuserUrl,
  passwords,
  template: TEMPLATE_DATABASE,
  startedServer,
  amqpUrl,
  ownRabbitMq: !process.env['AMQP_URL'],
  startedRabbitMq,
};
await writeFile(harnessFile(), JSON.stringify(harness), { mode: 0o600 });
console.error(
  `# test harness ready in ${Date.now() - started} ms (${startedServer ? 'own' : 'given'} Postgres, ${startedRabbitMq ? 'own' : 'given'} RabbitMQ)`,
);
