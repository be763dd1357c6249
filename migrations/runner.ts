/**
 * The migration runner behind `crs migrate`.
 *
 * Two kinds of SQL files, as Flyway has them:
 *   - versioned: migrations/NNNNNN_name.sql, applied once each, in order, never edited after;
 *     an applied file whose checksum changed is refused;
 *   - repeatable: sql/*.sql (functions, grants), re-applied whenever their checksum changes,
 *     after the versioned ones. They must be safe to run again (create or replace).
 * Each file runs in its own transaction together with its bookkeeping row, so a failure
 * leaves nothing half-applied; a file that starts with the line `-- crs:no-transaction` runs
 * statement by statement outside one (CREATE INDEX CONCURRENTLY, VALIDATE CONSTRAINT) and is
 * recorded only once all succeeded, so a failed one runs again whole (write each statement to
 * be safe to repeat). A session-level advisory lock makes concurrent runners (two deploy Jobs,
 * a test and a developer) take turns; the second one finds nothing to do.
 *
 * On a live database every file runs under lock_timeout and statement_timeout: a migration
 * that waits for a lock (behind a long transaction) gives up within lock_timeout instead of
 * queueing every order behind its own lock request, and is retried a few times with backoff,
 * saying so. docs/migrations.md says how to write migrations for this.
 *
 * Why not graphile-migrate: it keeps one "current.sql" under development and needs a shadow
 * database to commit it, which is a workflow for one developer's machine; here the same
 * command runs in CI, in the deploy Job and in tests, and must also re-apply sql/ functions.
 * This file is the whole runner.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { backoffMs, sleep } from '../common/backoff.js';
import { splitStatements } from './statements.js';

export type MigrationKind = 'versioned' | 'repeatable';

export interface MigrationFile {
  kind: MigrationKind;
  name: string;
  checksum: string;
  sql: string;
  /** False for a file marked `-- crs:no-transaction`: run statement by statement. */
  transactional: boolean;
}

/** How a migration behaves on a live database (MIGRATE_* in common/config.ts). */
export interface MigrateOptions {
  /** lock_timeout for every statement; 0 turns it off. */
  lockTimeoutMs: number;
  /** statement_timeout for every statement; 0 turns it off. */
  statementTimeoutMs: number;
  /** How many times a file that hit lock_timeout is tried again. */
  lockRetries: number;
  /** The first retry waits up to this (common/backoff.ts: jittered, doubling, capped at 30 s). */
  retryDelayMs: number;
}

export const DEFAULT_MIGRATE_OPTIONS: MigrateOptions = Object.freeze({
  lockTimeoutMs: 5_000,
  statementTimeoutMs: 15 * 60_000,
  lockRetries: 5,
  retryDelayMs: 1_000,
});

/** The directive, alone on a line among the file's leading comments. */
const NO_TRANSACTION = /^--\s*crs:no-transaction\s*$/m;
/** lock_not_available: lock_timeout expired (PostgreSQL error codes, appendix A). */
const LOCK_NOT_AVAILABLE = '55P03';

export interface MigrationStatus {
  kind: MigrationKind;
  name: string;
  state: 'applied' | 'pending' | 'changed' | 'missing';
  appliedAt?: Date;
}

export class MigrationError extends Error {
  readonly code: 'checksum_mismatch' | 'missing_file' | 'bad_file_name' | 'apply_failed' | 'lock_timeout';
  constructor(code: MigrationError['code'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MigrationError';
    this.code = code;
  }
}

/** Any constant: the advisory lock that makes migration runners take turns. */
const MIGRATION_LOCK_KEY = 7_337_001;
const VERSIONED_NAME = /^\d{6}_[a-z0-9_]+\.sql$/;

export interface MigrationSources {
  migrationsDir: string;
  sqlDir: string;
}

function checksum(sql: string) {
  return createHash('sha256').update(sql).digest('hex');
}

async function readSqlFiles(dir: string, kind: MigrationKind): Promise<MigrationFile[]> {
  const names = (await readdir(dir)).filter((name) => name.endsWith('.sql')).sort();
  return Promise.all(
    names.map(async (name) => {
      if (kind === 'versioned' && !VERSIONED_NAME.test(name)) {
        throw new MigrationError(
          'bad_file_name',
          `migrations/${name}: versioned migrations are named NNNNNN_lowercase_words.sql`,
        );
      }
      const sql = await readFile(join(dir, name), 'utf8');
      const leadingComments = /^(?:\s*--[^\n]*\n)*/.exec(sql)?.[0] ?? '';
      return {
        kind,
        name,
        sql,
        checksum: checksum(sql),
        transactional: !NO_TRANSACTION.test(leadingComments),
      };
    }),
  );
}

export async function readMigrationFiles(sources: MigrationSources) {
  return [
    ...(await readSqlFiles(sources.migrationsDir, 'versioned')),
    ...(await readSqlFiles(sources.sqlDir, 'repeatable')),
  ];
}

const BOOKKEEPING_SQL = `
  create schema if not exists crs_migrations;
  create table if not exists crs_migrations.applied (
    kind        text not null check (kind in ('versioned', 'repeatable')),
    name        text not null,
    checksum    text not null,
    applied_at  timestamptz not null default now(),
    duration_ms integer not null,
    primary key (kind, name)
  );`;

interface AppliedRow {
  kind: MigrationKind;
  name: string;
  checksum: string;
  applied_at: Date;
}

async function readApplied(client: pg.ClientBase): Promise<Map<string, AppliedRow>> {
  const exists = await client.query(`select to_regclass('crs_migrations.applied') as t`);
  if (exists.rows[0]?.t === null) return new Map();
  const { rows } = await client.query<AppliedRow>(
    'select kind, name, checksum, applied_at from crs_migrations.applied',
  );
  return new Map(rows.map((row) => [`${row.kind}:${row.name}`, row]));
}

/** Compares files with what the database has recorded. Reads only. */
export async function migrationStatus(
  client: pg.ClientBase,
  sources: MigrationSources,
): Promise<MigrationStatus[]> {
  return statusOf(await readMigrationFiles(sources), await readApplied(client));
}

function statusOf(files: MigrationFile[], applied: Map<string, AppliedRow>): MigrationStatus[] {
  const statuses: MigrationStatus[] = files.map((file) => {
    const row = applied.get(`${file.kind}:${file.name}`);
    applied.delete(`${file.kind}:${file.name}`);
    if (!row) return { kind: file.kind, name: file.name, state: 'pending' };
    return {
      kind: file.kind,
      name: file.name,
      state: row.checksum === file.checksum ? 'applied' : 'changed',
      appliedAt: row.applied_at,
    };
  });
  for (const row of applied.values()) {
    statuses.push({ kind: row.kind, name: row.name, state: 'missing', appliedAt: row.applied_at });
  }
  return statuses;
}

export interface MigrateResult {
  applied: string[];
}

/**
 * What `migrate` would apply, in order, without applying anything. Refuses, as migrate does,
 * when an applied versioned migration was edited or deleted.
 */
export async function migrationPlan(
  client: pg.ClientBase,
  sources: MigrationSources,
): Promise<MigrationFile[]> {
  const files = await readMigrationFiles(sources);
  const statuses = statusOf(files, await readApplied(client));
  for (const status of statuses) {
    if (status.kind !== 'versioned') continue;
    if (status.state === 'changed') {
      throw new MigrationError(
        'checksum_mismatch',
        `migrations/${status.name} was edited after it was applied; ` +
          'restore it and put the change in a new migration',
      );
    }
    if (status.state === 'missing') {
      throw new MigrationError(
        'missing_file',
        `migrations/${status.name} was applied to this database but is missing from migrations/`,
      );
    }
  }
  const due = new Set(statuses.filter((s) => s.state === 'pending' || s.state === 'changed').map(keyOf));
  return files.filter((file) => due.has(keyOf(file)));
}

/**
 * Applies what is pending. Refuses, before changing anything, when an applied versioned
 * migration was edited or deleted.
 */
export async function migrate(
  client: pg.ClientBase,
  sources: MigrationSources,
  onProgress: (message: string) => void = () => undefined,
  options: MigrateOptions = DEFAULT_MIGRATE_OPTIONS,
): Promise<MigrateResult> {
  await takeTurn(client, onProgress);
  try {
    await client.query(BOOKKEEPING_SQL);
    const result: MigrateResult = { applied: [] };
    for (const file of await migrationPlan(client, sources)) {
      await applyWithRetries(client, file, onProgress, options);
      result.applied.push(file.name);
    }
    return result;
  } finally {
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
  }
}

/**
 * Waits for the runners' advisory lock by asking, not by blocking: a runner blocked in
 * pg_advisory_lock is an open transaction, and CREATE INDEX CONCURRENTLY in the runner holding
 * the lock waits for every open transaction to end, so the two would deadlock. Each ask is a
 * transaction of its own that ends at once.
 */
async function takeTurn(client: pg.ClientBase, onProgress: (message: string) => void): Promise<void> {
  for (let attempt = 0; ; attempt += 1) {
    const { rows } = await client.query<{ ok: boolean }>('select pg_try_advisory_lock($1) as ok', [
      MIGRATION_LOCK_KEY,
    ]);
    if (rows[0]?.ok) return;
    if (attempt === 0) onProgress('another migration runner is at work; waiting for it');
    await sleep(100 + Math.random() * 400);
  }
}

async function applyWithRetries(
  client: pg.ClientBase,
  file: MigrationFile,
  onProgress: (message: string) => void,
  options: MigrateOptions,
): Promise<void> {
  const where = `${file.kind === 'versioned' ? 'migrations' : 'sql'}/${file.name}`;
  for (let attempt = 0; ; attempt += 1) {
    onProgress(`applying ${file.kind} ${file.name}${file.transactional ? '' : ' (no transaction)'}`);
    try {
      await apply(client, file, options);
      return;
    } catch (err) {
      const lockTimeout = (err as { code?: string }).code === LOCK_NOT_AVAILABLE;
      if (lockTimeout && attempt < options.lockRetries) {
        const waitMs = Math.round(backoffMs(attempt, options.retryDelayMs, 30_000));
        onProgress(
          `${where}: waited ${options.lockTimeoutMs} ms for a lock another session holds (lock_timeout); ` +
            `trying again in ${waitMs} ms (retry ${attempt + 1} of ${options.lockRetries})`,
        );
        await sleep(waitMs);
        continue;
      }
      throw new MigrationError(
        lockTimeout ? 'lock_timeout' : 'apply_failed',
        lockTimeout
          ? `${where} could not get its locks within lock_timeout (${options.lockTimeoutMs} ms) in ` +
              `${attempt + 1} tries: a long transaction holds them (see pg_locks); nothing of it was applied`
          : `${where} failed: ${(err as Error).message}` +
              (file.transactional
                ? ''
                : ' (outside a transaction: statements before it stay; it runs again whole)'),
        { cause: err },
      );
    }
  }
}

async function apply(client: pg.ClientBase, file: MigrationFile, options: MigrateOptions): Promise<void> {
  const started = Date.now();
  const timeouts = (scope: 'local' | 'session') =>
    `set ${scope === 'local' ? 'local ' : ''}lock_timeout = ${Math.trunc(options.lockTimeoutMs)};
     set ${scope === 'local' ? 'local ' : ''}statement_timeout = ${Math.trunc(options.statementTimeoutMs)};`;
  const record = () =>
    client.query(
      `insert into crs_migrations.applied (kind, name, checksum, duration_ms)
       values ($1, $2, $3, $4)
       on conflict (kind, name) do update
         set checksum = excluded.checksum, applied_at = now(), duration_ms = excluded.duration_ms`,
      [file.kind, file.name, file.checksum, Date.now() - started],
    );
  if (!file.transactional) {
    await client.query(timeouts('session'));
    try {
      for (const statement of splitStatements(file.sql)) await client.query(statement);
      await record();
    } finally {
      await client.query('reset lock_timeout; reset statement_timeout').catch(() => undefined);
    }
    return;
  }
  await client.query('begin');
  try {
    await client.query(timeouts('local'));
    // Functions may refer to each other in any file order; bodies are checked when run.
    if (file.kind === 'repeatable') await client.query('set local check_function_bodies = off');
    await client.query(file.sql);
    await record();
    await client.query('commit');
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  }
}

function keyOf(item: { kind: MigrationKind; name: string }) {
  return `${item.kind}:${item.name}`;
}
