-- Renderer leases (migrations/000005_renderer_leases.sql): how jobs held by a renderer that
-- died, hung or was cut off run again elsewhere, within seconds rather than graphile-worker's
-- four hours.
--
-- Each renderer renews the lease of its worker pool every few seconds. Any renderer, every few
-- seconds, unlocks the jobs of pools whose lease has lapsed (graphile_worker.
-- force_unlock_workers), so another renderer takes them. Before it stores a voucher, a renderer
-- checks that its pool still holds the job: one that was frozen past its lease finds the job
-- taken over and stores nothing, so no voucher is stored or announced twice because of it.
-- Times are the database's (now()), so renderers' clocks never disagree about a lease.

-- Renews (or takes) the leases of these worker pools for p_ttl_ms from now, held by the
-- calling session (the renderer renews on a session of its own).
create or replace function crs.renew_renderer_leases(p_worker_ids text[], p_ttl_ms integer)
returns void
language sql
security definer
set search_path = crs, pg_temp
as $$
  insert into crs.renderer_leases as l (worker_id, expires_at, session_pid)
  select w, now() + make_interval(secs => p_ttl_ms / 1000.0), pg_backend_pid()
    from unnest(p_worker_ids) as w
  on conflict (worker_id) do update
    set expires_at = excluded.expires_at, session_pid = excluded.session_pid;
$$;

-- A renderer's pools that stopped for good: their leases end and their jobs are unlocked now.
create or replace function crs.end_renderer_leases(p_worker_ids text[])
returns void
language sql
security definer
set search_path = crs, pg_temp
as $$
  delete from crs.renderer_leases where worker_id = any (p_worker_ids);
  select graphile_worker.force_unlock_workers(p_worker_ids);
$$;

-- Unlocks every job whose worker pool has no live lease (none, lapsed, or its renewing
-- session gone: the renderer crashed); returns those pools. Leases that lapsed more than an
-- hour ago are forgotten (their pools are long gone).
create or replace function crs.unlock_lapsed_renderer_jobs()
returns text[]
language plpgsql
security definer
set search_path = crs, pg_temp
as $$
declare
  lapsed text[];
begin
  select coalesce(array_agg(distinct j.locked_by), '{}') into lapsed
    from graphile_worker.jobs j
   where j.locked_by is not null
     and not exists (select from crs.renderer_leases l
                      where l.worker_id = j.locked_by and l.expires_at > now()
                        and (l.session_pid is null
                             or exists (select from pg_stat_activity a where a.pid = l.session_pid)));
  if cardinality(lapsed) > 0 then
    perform graphile_worker.force_unlock_workers(lapsed);
  end if;
  delete from crs.renderer_leases where expires_at < now() - interval '1 hour';
  return lapsed;
end
$$;

-- Whether this worker pool still holds this job (the fence before a voucher is stored).
create or replace function crs.render_job_held(p_job_id bigint, p_worker_id text)
returns boolean
language sql
stable
security definer
set search_path = crs, pg_temp
as $$
  select exists (select from graphile_worker.jobs j
                  where j.id = p_job_id and j.locked_by = p_worker_id);
$$;

revoke all on function crs.renew_renderer_leases(text[], integer) from public;
revoke all on function crs.end_renderer_leases(text[]) from public;
revoke all on function crs.unlock_lapsed_renderer_jobs() from public;
revoke all on function crs.render_job_held(bigint, text) from public;
grant execute on function crs.renew_renderer_leases(text[], integer) to crs_renderer;
grant execute on function crs.end_renderer_leases(text[]) to crs_renderer;
grant execute on function crs.unlock_lapsed_renderer_jobs() to crs_renderer;
grant execute on function crs.render_job_held(bigint, text) to crs_renderer;
