/**
 * What a platform does before the first `crs migrate` (CloudNativePG's managed roles and
 * bootstrap in production): the login roles with their passwords and the database, owned by
 * the migration owner. Run as a superuser; safe to run again (passwords are reset to the
 * given ones).
 */
import pg from 'pg';

export interface RolePasswords {
  owner: string;
  api: string;
  cdc: string;
  renderer: string;
}

export interface DatabaseUrls {
  /** The migration owner: `crs migrate`, and DATABASE_URL of the local stack. */
  owner: string;
  api: string;
  cdc: string;
  renderer: string;
}

/** Role names are part of the database contract (migrations grant to them). */
export const ROLES = {
  owner: 'crs_owner',
  api: 'crs_api',
  cdc: 'crs_cdc',
  renderer: 'crs_renderer',
} as const;

const ROLE_OPTIONS: Record<keyof typeof ROLES, string> = {
  owner: 'login',
  api: 'login',
  // Logical replication needs REPLICATION; nothing else is granted here.
  cdc: 'login replication',
  renderer: 'login',
};

export function urlFor(base: string, user: string, password: string, database: string) {
  const url = new URL(base);
  url.username = encodeURIComponent(user);
  url.password = encodeURIComponent(password);
  url.pathname = '/' + encodeURIComponent(database);
  return url.toString();
}

export async function bootstrapDatabase(
  superuserUrl: string,
  database: string,
  passwords: RolePasswords,
): Promise<DatabaseUrls> {
  const client = new pg.Client({ connectionString: superuserUrl });
  await client.connect();
  try {
    for (const key of Object.keys(ROLES) as (keyof typeof ROLES)[]) {
      const role = ROLES[key];
      const { rowCount } = await client.query('select from pg_roles where rolname = $1', [role]);
      const verb = rowCount ? 'alter' : 'create';
      const password = client.escapeLiteral(passwords[key]);
      await client.query(`${verb} role ${role} ${ROLE_OPTIONS[key]} password ${password}`);
    }
    const { rowCount } = await client.query('select from pg_database where datname = $1', [database]);
    if (!rowCount) {
      await client.query(`create database ${client.escapeIdentifier(database)} owner ${ROLES.owner}`);
    }
    // The owner creates the crs schema inside its database.
    await client.query(`grant create on database ${client.escapeIdentifier(database)} to ${ROLES.owner}`);
  } finally {
    await client.end();
  }
  return {
    owner: urlFor(superuserUrl, ROLES.owner, passwords.owner, database),
    api: urlFor(superuserUrl, ROLES.api, passwords.api, database),
    cdc: urlFor(superuserUrl, ROLES.cdc, passwords.cdc, database),
    renderer: urlFor(superuserUrl, ROLES.renderer, passwords.renderer, database),
  };
}
