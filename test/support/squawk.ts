/**
 * squawk, the PostgreSQL migration linter, for test/migrations/squawk.test.ts. Its npm package
 * (squawk-cli) depends on one binary package per platform, optionally; the registry this
 * project installs from serves only some of them, so a lock file naming squawk-cli cannot be
 * made that `npm ci` accepts everywhere. Instead the test fetches this platform's binary package
 * at the pinned version with `npm pack` (the registry npm ci uses) into a cache under the
 * system's temporary directory, once.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SQUAWK_VERSION = '2.66.0';

/** The path of the squawk binary for this machine, fetched on first use. */
export function squawkBinary(): string {
  const platform = `${process.platform}-${process.arch}`;
  const cache = join(tmpdir(), `crs-squawk-${SQUAWK_VERSION}-${platform}`);
  const binary = join(cache, 'package', 'bin', 'squawk');
  if (existsSync(binary)) return binary;
  mkdirSync(cache, { recursive: true });
  const name = `@squawk-cli/${platform}@${SQUAWK_VERSION}`;
  try {
    execFileSync('npm', ['pack', name, '--pack-destination', cache, '--silent'], {
      stdio: 'pipe',
      timeout: 120_000,
    });
  } catch (err) {
    throw new Error(`could not fetch ${name} from the npm registry (squawk has no binary for ${platform}?)`, {
      cause: err,
    });
  }
  const tarball = readdirSync(cache).find((file) => file.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack ${name} left no tarball in ${cache}`);
  execFileSync('tar', ['xzf', join(cache, tarball), '-C', cache]);
  return binary;
}
