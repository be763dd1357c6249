-- Which schema the database has: the newest versioned migration applied. Every component's
-- readiness compares it with the newest migration it ships (common/schemaVersion.ts), so the
-- pods of a new release stay out of their Service until `crs migrate` has run, whatever order
-- a deploy tool applies the manifests in.
create or replace function crs.schema_version()
returns text
language sql
stable
security definer
set search_path = crs_migrations, pg_temp
as $$
  select max(a.name) from crs_migrations.applied a where a.kind = 'versioned';
$$;

revoke all on function crs.schema_version() from public;
grant execute on function crs.schema_version() to crs_api, crs_cdc, crs_renderer;
