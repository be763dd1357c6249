/** The renderer in tests: in-process, or as its own `crs renderer` process (to kill it). */
import type { Test } from 'tap';
import { loadRendererConfig } from '../../common/config.js';
import { makeLogger } from '../../common/log.js';
import { startRenderer, type RunningRenderer } from '../../renderer/service.js';
import type { TestDatabase } from './database.js';
import { spawnCrs } from './process.js';

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
  return spawnCrs(t, ['renderer'], rendererEnv(db, s3Env, { LOG_LEVEL: 'warn' }));
}
