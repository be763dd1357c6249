/**
 * The project's own PostgreSQL for the local stack and the tests: its own data directory,
 * its own port, wal_level=logical, started from the Postgres binaries on the machine.
 *
 * Postgres refuses to run as root, and sessions and CI run as root here; when we are root the
 * server runs as the unprivileged `postgres` user (override with CRS_PG_USER).
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { asUser, giveTo, reachableDir, serverUser } from './serviceUser.js';

const run = promisify(execFile);

export interface LocalPostgresOptions {
  /** Holds the cluster (pgdata/) and its log. */
  dir: string;
  port: number;
  /**
   * Superuser password (scram) for a new cluster; the cluster accepts no password-less
   * logins. It is stored with the cluster, which keeps using the one it was made with.
   */
  superuserPassword: string;
  env?: Record<string, string | undefined>;
}

export interface LocalPostgres {
  readonly port: number;
  /** Where the cluster actually lives (see reachableDir). */
  readonly dir: string;
  readonly superuserUrl: string;
  start(): Promise<'started' | 'already running'>;
  stop(): Promise<void>;
  /** Stops the server and deletes the cluster. */
  destroy(): Promise<void>;
  isRunning(): Promise<boolean>;
  /** The tail of the server log, for error messages. */
  logTail(lines?: number): Promise<string>;
}

/** Settings the project relies on; written into postgresql.conf at init. */
const SERVER_SETTINGS: Record<string, string> = {
  listen_addresses: "'127.0.0.1'",
  wal_level: 'logical',
  max_replication_slots: '16',
  max_wal_senders: '16',
  max_connections: '300',
  shared_buffers: "'256MB'",
  // Commit timestamps let the CDC consumer measure lag in seconds.
  track_commit_timestamp: 'on',
  // A replication slot nobody reads must not fill the disk of a laptop.
  max_slot_wal_keep_size: "'2GB'",
  log_min_messages: 'warning',
  log_line_prefix: "'%m [%p] %q%u@%d '",
};

/**
 * Settings given at every start (`-c`), so a cluster made by an earlier version gets them too:
 * how fast the server lets go of a peer that hangs or is cut off.
 *   - wal_sender_timeout: a replication client silent this long (frozen, or its network gone
 *     with the socket open) loses its walsender, which frees the CDC slot for a standby
 *     (CloudNativePG's default is 5s; 10s leaves a busy laptop's event loop some slack);
 *   - tcp_keepalives_*: any other session whose peer vanished ends within about 11 s, and with
 *     it the locks it held;
 *   - idle_in_transaction_session_timeout: a client that hangs inside a transaction stops
 *     holding its row locks after a minute.
 */
const START_SETTINGS: Record<string, string> = {
  wal_sender_timeout: '10s',
  tcp_keepalives_idle: '5',
  tcp_keepalives_interval: '2',
  tcp_keepalives_count: '3',
  idle_in_transaction_session_timeout: '60s',
};

/**
 * initdb allows physical replication (`host replication all 127.0.0.1/32`) to every role with
 * REPLICATION, which crs_cdc has for logical decoding: `pg_basebackup` as crs_cdc could copy the
 * whole cluster, secrets and password verifiers included. Nothing local streams physically,
 * so those lines go; logical replication connections (replication=database) match the
 * database lines as any session does.
 */
export function withoutPhysicalReplication(hba: string): string {
  return hba
    .split('\n')
    .filter((line) => {
      const fields = line.trim().split(/\s+/);
      return line.trim().startsWith('#') || fields[1] !== 'replication';
    })
    .join('\n');
}

export function findPostgresBinDir(env: Record<string, string | undefined> = process.env): string {
  const configured = env['PG_BINDIR'];
  if (configured) {
    if (!existsSync(join(configured, 'initdb'))) {
      throw new Error(`PG_BINDIR=${configured} has no initdb`);
    }
    return configured;
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0]) return join(root, versions[0], 'bin');
  const onPath = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  const bin = onPath.status === 0 ? onPath.stdout.trim() : '';
  if (bin && existsSync(join(bin, 'initdb'))) return bin;
  throw new Error(
    'PostgreSQL server binaries (initdb, pg_ctl) not found: install them ' +
      '(Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql@15) ' +
      'or set PG_BINDIR, or point DATABASE_URL at a server with wal_level=logical',
  );
}

export function makeLocalPostgres(options: LocalPostgresOptions): LocalPostgres {
  const env = options.env ?? process.env;
  const runAs = serverUser(env['CRS_PG_USER'] ?? 'postgres');
  const dir = reachableDir(options.dir, runAs, 'postgres');
  const dataDir = join(dir, 'pgdata');
  const socketDir = join(dir, 'run');
  const logFile = join(dir, 'postgres.log');
  // Outside pgdata, root-only: the password travels with the cluster it belongs to.
  const passwordFile = join(dir, 'superuser-password');
  const superuserPassword = () =>
    existsSync(passwordFile) ? readFileSync(passwordFile, 'utf8').trim() : options.superuserPassword;

  async function pgCommand(binary: string, args: string[]) {
    const [file, fullArgs] = asUser(runAs, join(findPostgresBinDir(env), binary), args);
    return run(file, fullArgs, { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C.UTF-8' } });
  }

  const giveToServerUser = (path: string) => giveTo(runAs, path);

  async function init() {
    await mkdir(dir, { recursive: true });
    await mkdir(socketDir, { recursive: true });
    await giveToServerUser(dir);
    await giveToServerUser(socketDir);
    const pwFile = join(dir, '.initdb-pw');
    await writeFile(pwFile, options.superuserPassword, { mode: 0o600 });
    await giveToServerUser(pwFile);
    try {
      await pgCommand('initdb', [
        '-D',
        dataDir,
        '-U',
        'postgres',
        '--pwfile',
        pwFile,
        '--auth-local=scram-sha-256',
        '--auth-host=scram-sha-256',
        '-E',
        'UTF8',
        '--locale=C.UTF-8',
      ]);
    } finally {
      await rm(pwFile, { force: true });
    }
    await writeFile(passwordFile, options.superuserPassword, { mode: 0o600 });
    const settings = Object.entries(SERVER_SETTINGS)
      .map(([name, value]) => `${name} = ${value}`)
      .join('\n');
    const conf = join(dataDir, 'postgresql.conf');
    const current = await readFile(conf, 'utf8');
    await writeFile(conf, `${current}\n# cloud-reservation-system local stack\n${settings}\n`);
  }

  async function isRunning() {
    if (!existsSync(join(dataDir, 'postmaster.pid'))) return false;
    try {
      await pgCommand('pg_ctl', ['-D', dataDir, 'status']);
      return true;
    } catch {
      return false;
    }
  }

  async function logTail(lines = 20) {
    try {
      return (await readFile(logFile, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no server log)';
    }
  }

  return {
    port: options.port,
    dir,
    get superuserUrl() {
      return `postgres://postgres:${encodeURIComponent(superuserPassword())}@127.0.0.1:${options.port}/postgres`;
    },
    isRunning,
    logTail,
    async start() {
      if (!existsSync(join(dataDir, 'PG_VERSION'))) await init();
      if (await isRunning()) return 'already running';
      const hbaFile = join(dataDir, 'pg_hba.conf');
      const hba = await readFile(hbaFile, 'utf8');
      if (withoutPhysicalReplication(hba) !== hba) await writeFile(hbaFile, withoutPhysicalReplication(hba));
      if (!existsSync(logFile)) {
        await writeFile(logFile, '');
        await chmod(logFile, 0o640);
        await giveToServerUser(logFile);
      }
      try {
        await pgCommand('pg_ctl', [
          '-D',
          dataDir,
          '-l',
          logFile,
          '-w',
          '-t',
          '60',
          '-o',
          [
            `-p ${options.port} -k ${socketDir}`,
            ...Object.entries(START_SETTINGS).map(([name, value]) => `-c ${name}=${value}`),
          ].join(' '),
          'start',
        ]);
      } catch (err) {
        throw new Error(
          `postgres did not start on port ${options.port} (data in ${dataDir}): ` +
            `${(err as Error).message.split('\n')[0]}\n${await logTail()}`,
        );
      }
      return 'started';
    },
    async stop() {
      if (!(await isRunning())) return;
      await pgCommand('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-t', '60', 'stop']);
    },
    async destroy() {
      await this.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
