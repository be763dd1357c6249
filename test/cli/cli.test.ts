/**
 * The `crs` command as users run it: a process, its exit code and what it prints.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { packageRoot } from '../../common/paths.js';
import { newSecret } from '../../devstack/secrets.js';
import { makeTestDatabase } from '../support/database.js';

const exec = promisify(execFile);

async function crs(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await exec(
      process.execPath,
      ['--import=tsx', join(packageRoot, 'cli', 'run.ts'), ...args],
      { env: { PATH: process.env['PATH'] ?? '', ...env }, timeout: 60_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

t.test('every command has --help', async (t) => {
  const top = await crs(['--help']);
  t.equal(top.code, 0);
  for (const command of ['start', 'services', 'migrate', 'api', 'cdc', 'renderer', 'reconcile', 'bench']) {
    t.match(top.stdout, new RegExp(`^  ${command} `, 'm'), `listed: ${command}`);
    const help = await crs([command, '--help']);
    t.equal(help.code, 0, `${command} --help`);
    t.match(help.stdout, new RegExp(`Usage: crs ${command}`));
  }
  const unknown = await crs(['launch']);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, /unknown command "launch"/);
});

t.test('a missing or malformed variable stops the process with one line naming it', async (t) => {
  const secret = newSecret();
  const good = {
    DATABASE_URL: 'postgres://crs_api:pw@127.0.0.1:1/crs',
    ADMIN_TOKEN: secret,
    STAFF_TOKEN: newSecret(),
    ORDER_TOKEN_KEY: newSecret(),
  };
  const cases: [string, Record<string, string>, RegExp][] = [
    ['no DATABASE_URL', { ...good, DATABASE_URL: '' }, /^crs api: configuration: DATABASE_URL: is required/],
    [
      'DATABASE_URL not postgres',
      { ...good, DATABASE_URL: 'mysql://x@y/z' },
      /DATABASE_URL: must start with postgres:\/\//,
    ],
    ['no ADMIN_TOKEN', { ...good, ADMIN_TOKEN: '' }, /ADMIN_TOKEN: is required/],
    ['short STAFF_TOKEN', { ...good, STAFF_TOKEN: 'short' }, /STAFF_TOKEN: must be at least 32 characters/],
    ['PORT not a number', { ...good, PORT: 'eighty' }, /PORT: must be a whole number/],
    ['PORT out of range', { ...good, PORT: '70000' }, /PORT: must be between 0 and 65535/],
    ['RATE_LIMIT neither on nor off', { ...good, RATE_LIMIT: 'maybe' }, /RATE_LIMIT: must be "on" or "off"/],
    ['LOG_LEVEL unknown', { ...good, LOG_LEVEL: 'loud' }, /LOG_LEVEL: must be one of/],
  ];
  for (const [name, env, expected] of cases) {
    const result = await crs(['api'], env);
    t.equal(result.code, 1, `${name}: exit code`);
    t.match(result.stderr, expected, name);
    t.equal(result.stderr.trim().split('\n').length, 1, `${name}: one line`);
    t.notMatch(result.stderr, secret, `${name}: no secret printed`);
  }
});

t.test('a database that is not there: one line saying so, no stack', async (t) => {
  const result = await crs(['migrate', 'status'], {
    DATABASE_URL: 'postgres://crs_owner:pw@127.0.0.1:1/crs',
  });
  t.equal(result.code, 1);
  t.equal(
    result.stderr.trim(),
    'crs migrate: cannot reach 127.0.0.1:1 (ECONNREFUSED): is it running, and is its URL right?',
  );
});

t.test('crs migrate and crs migrate status against a database', async (t) => {
  const db = await makeTestDatabase(t);
  const env = { DATABASE_URL: db.urls.owner, LOG_LEVEL: 'warn' };
  const migrate = await crs(['migrate'], env);
  t.equal(migrate.code, 0, migrate.stderr);
  const status = await crs(['migrate', 'status'], env);
  t.equal(status.code, 0);
  t.match(status.stdout, /^applied\s+versioned\s+000001_order_core\.sql/m);
  t.match(status.stdout, /^applied\s+repeatable\s+place_order\.sql/m);
  const bad = await crs(['migrate', 'sideways'], env);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /unknown arguments: sideways/);
});
