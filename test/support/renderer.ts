/** The renderer in tests: in-process, or as its own `crs renderer` process (to kill it). */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Test } from 'tap';
import { loadRendererConfig } from '../../common/config.js';
import { makeLogger } from '../../common/log.js';
import { packageRoot } from '../../common/paths.js';
import { startRenderer, type RunningRenderer } from '../../renderer/service.js';
import type { TestDatabase } from './database.js';

export function rendererEnv(
  db: TestDatabase,
  s3Env: Record<string, string>,
  extra: Record<string, string> = {},
) {
  return {
    RENDERER_DATABASE_URL: db.urls.renderer,
    RENDERER_PORT: '0',
    HOST: '127.0.0.1',
    RENDERER_CONCURRENCY: '4',
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    ...s3Env,
    ...extra,
  };
}

export async function startTestRenderer(
  t: Test,
  db: TestDatabase,
  s3Env: Record<string, string>,
): Promise<RunningRenderer> {
  const config = loadRendererConfig(rendererEnv(db, s3Env));
  const renderer = await startRenderer(config, makeLogger({ level: config.logLevel, component: 'renderer' }));
  t.teardown(() => renderer.stop());
  return renderer;
}

export function spawnRenderer(t: Test, db: TestDatabase, s3Env: Record<string, string>) {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import=tsx', join(packageRoot, 'cli', 'run.ts'), 'renderer'],
    {
      env: { PATH: process.env['PATH'] ?? '', ...rendererEnv(db, s3Env, { LOG_LEVEL: 'warn' }) },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return { child, exited, output: () => output };
}
