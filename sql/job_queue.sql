-- The render job queue (graphile-worker, schema graphile_worker, installed by `crs migrate`
-- through graphile-worker's own migrations before this file runs).
--
-- CDC enqueues through crs.enqueue_render_jobs only; the renderer runs graphile-worker,
-- which needs its whole schema. The job key is the order id, so a replayed change never
-- queues a second job, and only orders still waiting for their voucher get one, so a replay
-- after the voucher was stored (when graphile-worker has already deleted the finished job)
-- does not render again.
--
-- Our own SQL reads and changes jobs through graphile-worker's public interface only: the
-- graphile_worker.jobs view and its documented functions (add_jobs, force_unlock_workers,
-- remove_job). Its _private_* tables may change in any release; the one place that touches
-- them is crs.grant_job_queue_access below (grants and row-level-security policies), because
-- graphile-worker itself, running as crs_renderer, works on them.

-- Queues one render_voucher job per order that is still waiting for its voucher.
-- Returns how many jobs were queued or refreshed.
--
-- The ids come from committed transactions decoded from the WAL. Decoding can deliver a
-- transaction a moment before it is visible to other sessions, so an order not found here is
-- not skipped: only an order seen to be past 'reserved' is (the renderer retries until it
-- sees the order).
--
-- Enqueuers take turns (a transaction advisory lock) and look at the jobs only once it is
-- their turn, in a statement of its own, so each sees every job an earlier one queued. Two
-- at once (a retried CDC batch while the first try's enqueue still waited for a connection,
-- across a Postgres restart) could both miss a job the other had just
-- queued and the renderer locked, and add_jobs then retires the running job for good.
create or replace function crs.enqueue_render_jobs(p_order_ids text[])
returns integer
language plpgsql
security definer
set search_path = crs, pg_temp
as $$
begin
  perform pg_advisory_xact_lock(hashtextextended('crs.enqueue_render_jobs', 0));
  return (
    select count(*)::integer
      from graphile_worker.add_jobs(
        array(
          -- The payload's one declaration is GraphileWorker.Tasks['render_voucher']
          -- (types/graphile-worker-tasks.d.ts); test/renderer/jobPayloads.test.ts holds the
          -- two together.
          select row('render_voucher',
                     json_build_object('orderId', wanted.order_id),
                     null, null, null,
                     'render_voucher:' || wanted.order_id,
                     null, null)::graphile_worker.job_spec
            -- Always qualified: a bare `id` inside the jobs subquery below is the job's own id
            -- column, not the order's.
            from unnest(p_order_ids) as wanted(order_id)
           where not exists (select from crs.orders o
                             where o.order_id = wanted.order_id and o.status <> 'reserved')
             -- An order whose job is still alive (queued, running or waiting to retry) is left
             -- alone. add_jobs would otherwise race the renderer: a job locked between its two
             -- statements is marked failed for good and a second one queued, and if the first
             -- then could not record its completion (Postgres restarting), a dead job stayed
             -- behind for ever. Only a job that used up its attempts is
             -- queued again (crs reconcile), keeping the failed one as its record.
             and not exists (select from graphile_worker.jobs j
                              where j.key = 'render_voucher:' || wanted.order_id
                                and j.attempts < j.max_attempts)),
        -- A job already queued keeps its place (and its backoff), it is not pushed back.
        job_key_preserve_run_at => true)
  );
end;
$$;

-- For `crs reconcile`: a render job for every order that has no stored voucher.
create or replace function crs.enqueue_missing_render_jobs()
returns integer
language sql
security definer
set search_path = crs, pg_temp
as $$
  select crs.enqueue_render_jobs(array(select o.order_id from crs.orders o where o.status = 'reserved'));
$$;

-- Access to graphile-worker's schema for the renderer. A function rather than plain grants
-- so `crs migrate` can run it after every graphile-worker upgrade (new tables included).
-- graphile-worker turns row-level security on for its private tables (only their owner,
-- crs_owner, sees rows), so the renderer also gets a policy on each of them.
create or replace function crs.grant_job_queue_access()
returns void
language plpgsql
set search_path = crs, pg_temp
as $$
declare
  private regclass;
begin
  for private in
    select c.oid::regclass from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = 'graphile_worker' and c.relkind = 'r' and c.relrowsecurity
  loop
    if not exists (select from pg_policy p where p.polrelid = private and p.polname = 'crs_renderer_all') then
      execute format('create policy crs_renderer_all on %s to crs_renderer using (true) with check (true)', private);
    end if;
  end loop;
  grant usage on schema graphile_worker to crs_renderer;
  grant select, insert, update, delete on all tables in schema graphile_worker to crs_renderer;
  grant usage, select on all sequences in schema graphile_worker to crs_renderer;
  grant execute on all functions in schema graphile_worker to crs_renderer;
end
$$;

revoke all on function crs.enqueue_render_jobs(text[]) from public;
revoke all on function crs.enqueue_missing_render_jobs() from public;
revoke all on function crs.grant_job_queue_access() from public;
grant execute on function crs.enqueue_render_jobs(text[]) to crs_cdc;
grant execute on function crs.enqueue_missing_render_jobs() to crs_cdc;
