/**
 * Where the test run's Postgres lives and how to reach it; shared by the before/after
 * scripts and by every test file (through harness.json, written by before.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataDir } from '../../common/paths.js';
import type { RolePasswords } from '../../devstack/bootstrap.js';

export interface Harness {
  superuserUrl: string;
  passwords: RolePasswords;
  template: string;
  /** Whether before.ts started the server (and after.ts should stop it). */
  startedServer: boolean;
  /** RabbitMQ for tests (AMQP_URL, or the project's own test node). */
  amqpUrl: string;
  /** Whether the RabbitMQ is the project's own test node (rabbitmqctl works on it). */
  ownRabbitMq: boolean;
  startedRabbitMq: boolean;
}

export const harnessDir = () => join(dataDir(), 'test');
export const harnessFile = () => join(harnessDir(), 'harness.json');
export const TEMPLATE_DATABASE = 'crs_test_template';
export const TEST_PG_PORT = Number(process.env['CRS_TEST_PG_PORT'] ?? 54339);
export const TEST_AMQP_PORT = Number(process.env['CRS_TEST_AMQP_PORT'] ?? 56730);

export function readHarness(): Harness {
  try {
    return JSON.parse(readFileSync(harnessFile(), 'utf8')) as Harness;
  } catch (err) {
    throw new Error(
      `no test harness at ${harnessFile()}: run tests with \`npm test\` (tap runs test/setup/before.ts first)`,
      { cause: err },
    );
  }
}
