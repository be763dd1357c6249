import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package root, found by walking up from this file: the same answer from the TypeScript
 * sources (tests, tsx) and from the compiled dist/ tree.
 */
function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above ' + import.meta.url);
    dir = parent;
  }
  return dir;
}

export const packageRoot = findPackageRoot();
export const migrationsDir = join(packageRoot, 'migrations');
export const sqlDir = join(packageRoot, 'sql');

/** Where the local stack keeps its state (gitignored); CRS_DATA_DIR moves it. */
export function dataDir(env: Record<string, string | undefined> = process.env): string {
  return resolve(env['CRS_DATA_DIR'] ?? join(packageRoot, '.data'));
}
