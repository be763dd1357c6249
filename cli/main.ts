/**
 * `crs`: one CLI for every component and tool. Each sub-command has --help.
 */
import { AppError } from '../common/errors.js';
import { ConfigError } from '../common/config.js';
import { MigrationError } from '../migrations/runner.js';
import { UsageError, type Command } from './command.js';
import { apiCommand } from './commands/api.js';
import { benchCommand } from './commands/bench.js';
import { cdcCommand } from './commands/cdc.js';
import { faultsCommand } from './commands/faults.js';
import { reconcileCommand } from './commands/reconcile.js';
import { rendererCommand } from './commands/renderer.js';
import { s3StoreCommand } from './commands/s3Store.js';
import { migrateCommand } from './commands/migrate.js';
import { servicesCommand } from './commands/services.js';
import { startCommand } from './commands/start.js';

const COMMANDS: Command[] = [
  startCommand,
  servicesCommand,
  migrateCommand,
  apiCommand,
  cdcCommand,
  rendererCommand,
  reconcileCommand,
  benchCommand,
  faultsCommand,
  s3StoreCommand,
];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: crs <command> [options]     (crs <command> --help for more)',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    console.error(`crs: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(args, process.env);
  } catch (err) {
    // Expected failures get one line; anything else gets its stack.
    if (err instanceof ConfigError) console.error(`crs ${name}: configuration: ${err.message}`);
    else if (err instanceof UsageError) console.error(`crs ${name}: ${err.message}`);
    else if (err instanceof MigrationError) console.error(`crs ${name}: ${err.code}: ${err.message}`);
    else if (err instanceof AppError) console.error(`crs ${name}: ${err.code}: ${err.message}`);
    else if (unreachable(err)) console.error(`crs ${name}: ${unreachable(err)}`);
    else console.error(`crs ${name}: ${(err as Error).stack ?? String(err)}`);
    return 1;
  }
}

/** Network errors the user can act on (a service not running, a wrong host): one line, no stack. */
const UNREACHABLE = ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN'];

function unreachable(err: unknown): string | undefined {
  const { code, address, hostname, port } = (err ?? {}) as {
    code?: string;
    address?: string;
    hostname?: string;
    port?: number;
  };
  if (!code || !UNREACHABLE.includes(code)) return undefined;
  const where = [address ?? hostname, port].filter((part) => part !== undefined).join(':');
  return `cannot reach ${where || 'a service'} (${code}): is it running, and is its URL right?`;
}
