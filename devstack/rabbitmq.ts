/**
 * The project's own RabbitMQ node for the local stack and tests: its own node name, ports
 * and data directory, started from the machine's rabbitmq-server (as the rabbitmq user when
 * we are root). About four seconds to start.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { asUser, giveTo, reachableDir, serverUser } from './serviceUser.js';

const run = promisify(execFile);

export interface LocalRabbitMq {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  start(): Promise<'started' | 'already running'>;
  stop(): Promise<void>;
  isRunning(): Promise<boolean>;
  /** Runs rabbitmqctl against this node (add_vhost, list_queues, ...). */
  ctl(args: string[]): Promise<string>;
}

export function findRabbitMqBinDir(env: Record<string, string | undefined> = process.env): string {
  const candidates = [
    env['RABBITMQ_BINDIR'],
    '/usr/lib/rabbitmq/bin',
    '/usr/local/sbin',
    '/opt/homebrew/sbin',
  ];
  for (const dir of candidates) if (dir && existsSync(join(dir, 'rabbitmq-server'))) return dir;
  throw new Error(
    'rabbitmq-server not found: install it (Debian/Ubuntu: apt-get install rabbitmq-server; ' +
      'macOS: brew install rabbitmq) or set AMQP_URL to a RabbitMQ you run',
  );
}

async function canConnect(url: string): Promise<boolean> {
  try {
    const connection = await amqp.connect(url, { timeout: 2_000 });
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

export function makeLocalRabbitMq(options: {
  dir: string;
  port: number;
  env?: Record<string, string | undefined>;
}): LocalRabbitMq {
  const env = options.env ?? process.env;
  const runAs = serverUser(env['CRS_RABBITMQ_USER'] ?? 'rabbitmq');
  const dir = reachableDir(options.dir, runAs, 'rabbitmq');
  // One node name per data directory, so two checkouts never meet.
  const node = `crs-${createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 8)}@localhost`;
  const url = `amqp://guest:guest@127.0.0.1:${options.port}`;
  const serverEnv = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: dir,
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(options.port),
    RABBITMQ_DIST_PORT: String(options.port + 5),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_PID_FILE: join(dir, 'rabbitmq.pid'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq'),
  };
  const ctl = async (args: string[]) => {
    const [file, fullArgs] = asUser(runAs, join(findRabbitMqBinDir(env), 'rabbitmqctl'), args);
    return run(file, fullArgs, { env: serverEnv, cwd: dir, encoding: 'utf8', timeout: 90_000 });
  };
  const isRunning = () => canConnect(url);

  return {
    port: options.port,
    url,
    dir,
    isRunning,
    ctl: async (args) => (await ctl(args)).stdout,
    async start() {
      if (await isRunning()) return 'already running';
      await mkdir(join(dir, 'log'), { recursive: true });
      await writeFile(join(dir, 'enabled_plugins'), '[].\n');
      // Keep a small laptop's disk alarm from blocking publishers.
      await writeFile(join(dir, 'rabbitmq.conf'), 'disk_free_limit.absolute = 50MB\n');
      for (const path of [dir, join(dir, 'log'), join(dir, 'enabled_plugins'), join(dir, 'rabbitmq.conf')]) {
        await giveTo(runAs, path);
      }
      const [file, args] = asUser(runAs, join(findRabbitMqBinDir(env), 'rabbitmq-server'), ['-detached']);
      await run(file, args, { env: serverEnv, cwd: dir });
      try {
        await ctl(['wait', '--timeout', '60', serverEnv.RABBITMQ_PID_FILE]);
      } catch (err) {
        throw new Error(`rabbitmq did not start (logs in ${join(dir, 'log')}): ${(err as Error).message}`);
      }
      return 'started';
    },
    async stop() {
      if (!existsSync(serverEnv.RABBITMQ_PID_FILE)) return;
      await ctl(['stop', serverEnv.RABBITMQ_PID_FILE]).catch(() => undefined);
    },
  };
}
