/**
 * Running a local server as an unprivileged user when we are root (Postgres refuses root;
 * RabbitMQ is meant to run as its own user), and finding it a directory that user can reach.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { chown } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';

/** The user a server runs as: `preferred` when we are root, else ourselves (undefined). */
export function serverUser(preferred: string): string | undefined {
  return process.getuid?.() === 0 ? preferred : undefined;
}

export function userIds(user: string): { uid: number; gid: number } {
  const id = (flag: string) => spawnSync('id', [flag, user], { encoding: 'utf8' });
  const uid = id('-u');
  const gid = id('-g');
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error(
      `running as root, this server must run as the unprivileged user "${user}", which does not exist: ` +
        `create it (useradd --system ${user}) or install the server's Debian package`,
    );
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

export async function giveTo(user: string | undefined, path: string) {
  if (!user) return;
  const { uid, gid } = userIds(user);
  await chown(path, uid, gid);
}

/**
 * `dir` if `user` can reach it; a checkout under a private home (/root is 0700) is out of its
 * reach, and then the server's state lives in a directory of its own under /var/tmp, named
 * after the intended one (so the same checkout always finds it again).
 */
export function reachableDir(dir: string, user: string | undefined, kind: string): string {
  if (!user) return dir;
  mkdirSync(dirname(dir), { recursive: true });
  const reachable = spawnSync('runuser', ['-u', user, '--', 'test', '-x', dirname(dir)]).status === 0;
  if (reachable) return dir;
  const name = createHash('sha256').update(resolve(dir)).digest('hex').slice(0, 12);
  return join('/var/tmp', `crs-${kind}-${name}`);
}

/** [file, args] that run `bin args` as `user` (or as ourselves when user is undefined). */
export function asUser(user: string | undefined, bin: string, args: string[]): [string, string[]] {
  return user ? ['runuser', ['-u', user, '--', bin, ...args]] : [bin, args];
}
