/**
 * The project's own redis-server for the local stack and tests: its own port and directory,
 * append-only persistence so the stack's state survives a restart.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { stopByPidFile } from './pidFile.js';

export interface LocalRedis {
  readonly port: number;
  readonly url: string;
  start(): Promise<'started' | 'already running'>;
  stop(): Promise<void>;
  isRunning(): Promise<boolean>;
}

export function findRedisServer(env: Record<string, string | undefined> = process.env): string {
  const configured = env['REDIS_SERVER_BIN'];
  const candidates = configured ? [configured] : ['/usr/bin/redis-server', '/usr/local/bin/redis-server'];
  for (const candidate of candidates) if (existsSync(candidate)) return candidate;
  const which = spawnSync('which', ['redis-server'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  throw new Error(
    'redis-server not found: install it (Debian/Ubuntu: apt-get install redis-server; ' +
      'macOS: brew install redis) or set REDIS_URL to a Redis or Dragonfly you run',
  );
}

async function ping(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export function makeLocalRedis(options: {
  dir: string;
  port: number;
  /** Keep data across restarts (append-only file); tests turn it off. */
  persist: boolean;
  env?: Record<string, string | undefined>;
}): LocalRedis {
  const url = `redis://127.0.0.1:${options.port}`;
  const pidFile = join(options.dir, 'redis.pid');
  const isRunning = () => ping(url);
  return {
    port: options.port,
    url,
    isRunning,
    async start() {
      if (await isRunning()) return 'already running';
      await mkdir(options.dir, { recursive: true });
      const args = [
        '--port',
        String(options.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        options.dir,
        '--pidfile',
        pidFile,
        '--logfile',
        join(options.dir, 'redis.log'),
        '--daemonize',
        'yes',
        '--save',
        '',
        '--appendonly',
        options.persist ? 'yes' : 'no',
      ];
      const child = spawn(findRedisServer(options.env ?? process.env), args, { stdio: 'ignore' });
      await new Promise<void>((resolve, reject) => {
        child.once('error', reject);
        child.once('exit', (code) =>
          code === 0 ? resolve() : reject(new Error(`redis-server exited with ${code}`)),
        );
      });
      for (let i = 0; i < 100; i += 1) {
        if (await isRunning()) return 'started';
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error(`redis-server did not answer on ${url}; see ${join(options.dir, 'redis.log')}`);
    },
    stop: () => stopByPidFile(pidFile),
  };
}
