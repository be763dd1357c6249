/**
 * The local stack (devstack: our own Postgres, Redis, RabbitMQ and the S3 store built on
 * s3rver) is development tooling: its packages are devDependencies, absent from the production
 * image and from `npm ci --omit=dev`. The commands that run it (start, services, s3-store, and
 * bench and faults, which run a stack of their own) load
 * it only when they run, through here, so `crs api` and the other components never import it,
 * and a missing package is explained instead of crashing with a stack.
 */
import { isAbsolute, relative } from 'node:path';
import { packageRoot } from '../common/paths.js';
import { UsageError } from './command.js';

export async function loadLocalStack<T>(command: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    // Node says ERR_MODULE_NOT_FOUND; a TypeScript loader in front of it (tests) may keep only
    // the message, so that is what is read.
    const missing = /^Cannot find (?:package|module) '([^']+)'/.exec((err as Error).message)?.[1];
    if (missing === undefined) throw err;
    // A package (s3rver) after npm ci --omit=dev, or a file the image leaves out (dist/bench).
    const what = isAbsolute(missing)
      ? `${relative(packageRoot, missing)} is not in this install`
      : `${missing} is not installed`;
    throw new UsageError(
      `${command} runs the local development stack, which needs the development dependencies ` +
        `(${what}): run \`npm ci\` (without --omit=dev) in the repository`,
    );
  }
}
