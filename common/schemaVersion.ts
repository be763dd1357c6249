/**
 * The schema this code needs, and whether the database has it: part of every component's
 * readiness, so a pod of a new release does not serve before `crs migrate` has applied the
 * migrations it ships (sql/schema_version.sql).
 */
import { readdirSync } from 'node:fs';
import type { Pool } from './db.js';
import { migrationsDir } from './paths.js';

/** The number of the newest versioned migration this release ships (migrations/NNNNNN_*.sql). */
export const shippedSchemaVersion: number = Math.max(
  0,
  ...readdirSync(migrationsDir)
    .map((name) => /^(\d{6})_.*\.sql$/.exec(name)?.[1])
    .filter((number): number is string => number !== undefined)
    .map(Number),
);

/** "ok", or what is behind; throws when Postgres cannot be asked (unreachable). */
export async function checkSchema(pool: Pick<Pool, 'query'>): Promise<string> {
  let applied = 0;
  try {
    const { rows } = await pool.query<{ name: string | null }>('select crs.schema_version() as name');
    applied = Number(rows[0]?.name?.slice(0, 6) ?? 0);
  } catch (err) {
    // undefined_function: a database from before schema_version.sql, so behind too.
    if ((err as { code?: string }).code !== '42883') throw err;
  }
  return applied >= shippedSchemaVersion
    ? 'ok'
    : `schema behind: the database is at migration ${applied}, this release needs ${shippedSchemaVersion} (run crs migrate)`;
}
