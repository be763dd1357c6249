-- What the Postgres exporter (pg_monitor) may read about the system: two aggregates, through
-- functions, and nothing else. No table grants, no row-level-security exceptions, no personal
-- data; see deploy/kubernetes/base/postgres/monitoring-queries.yaml.

-- Every product's stock as Postgres (the source of truth) has it.
create or replace function crs.monitoring_stock()
returns table (product_id text, total integer, remaining integer)
language sql
stable
security definer
set search_path = crs, pg_temp
as $$
  select s.product_id, s.total, s.remaining
    from crs.products p
   cross join lateral crs.get_stock(p.product_id) s;
$$;

-- The voucher render queue: jobs waiting or running, jobs that used up their attempts, and the
-- age of the oldest job nobody has taken yet (0 when none waits).
create or replace function crs.monitoring_render_jobs()
returns table (pending bigint, failed bigint, oldest_waiting_seconds double precision)
language sql
stable
security definer
set search_path = crs, pg_temp
as $$
  select count(*) filter (where j.attempts < j.max_attempts),
         count(*) filter (where j.attempts >= j.max_attempts),
         coalesce(extract(epoch from now() - min(j.run_at)
                    filter (where j.attempts < j.max_attempts and j.locked_at is null)), 0)::double precision
    from graphile_worker.jobs j
   where j.task_identifier = 'render_voucher';
$$;

revoke all on function crs.monitoring_stock() from public;
revoke all on function crs.monitoring_render_jobs() from public;
grant usage on schema crs to pg_monitor;
grant execute on function crs.monitoring_stock() to pg_monitor;
grant execute on function crs.monitoring_render_jobs() to pg_monitor;
