/**
 * The local S3 store as a background process of its own (`crs s3-store`), so that
 * `crs services --detach` can leave it running like the other servers: pid file, log file,
 * readiness by HTTP.
 */
import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stopByPidFile } from './pidFile.js';

export interface LocalS3Store {
  readonly port: number;
  readonly url: string;
  start(): Promise<'started' | 'already running'>;
  stop(): Promise<void>;
  isRunning(): Promise<boolean>;
}

export function makeLocalS3Store(options: {
  dir: string;
  port: number;
  env: Record<string, string | undefined>;
}): LocalS3Store {
  const url = `http://127.0.0.1:${options.port}`;
  const pidFile = join(options.dir, 's3-store.pid');
  const isRunning = async () => {
    try {
      await fetch(url, { signal: AbortSignal.timeout(1_000) });
      return true;
    } catch {
      return false;
    }
  };
  return {
    port: options.port,
    url,
    isRunning,
    async start() {
      if (await isRunning()) return 'already running';
      await mkdir(options.dir, { recursive: true });
      const script = process.argv[1];
      if (!script) throw new Error('cannot find the crs script to start the S3 store with');
      const log = openSync(join(options.dir, 's3-store.log'), 'a');
      const child = spawn(process.execPath, [...process.execArgv, script, 's3-store'], {
        env: { ...options.env, CRS_S3_PORT: String(options.port) } as NodeJS.ProcessEnv,
        stdio: ['ignore', log, log],
        detached: true,
      });
      child.unref();
      await writeFile(pidFile, String(child.pid));
      for (let i = 0; i < 150; i += 1) {
        if (await isRunning()) return 'started';
        if (child.exitCode !== null) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`the local S3 store did not start; see ${join(options.dir, 's3-store.log')}`);
    },
    stop: () => stopByPidFile(pidFile),
  };
}
