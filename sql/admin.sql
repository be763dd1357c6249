-- The admin page's reads: the products' stock (a page at a time), the latest orders (a page at a time), search,
-- the CSV export, and the audit trail.
-- Personal data leaves the database already shortened (first name, last initial, the phone's
-- last three digits): the page needs to recognise an order, not to contact anyone.

-- Products a page at a time, by id: those after p_after when given, at most p_limit (1..200),
-- each with its stock.
create or replace function crs.products_page(p_after text, p_limit integer)
returns table (product_id text, name text, total integer, remaining integer)
language sql
stable
security definer
set search_path = crs, pg_temp
as $$
  select s.product_id, s.name, s.total, s.remaining
    from (select p.product_id from crs.products p
           where p_after is null or p.product_id > p_after
           order by p.product_id
           limit greatest(1, least(coalesce(p_limit, 25), 200))) p
   cross join lateral crs.get_stock(p.product_id) s
   order by s.product_id;
$$;

-- The first list of every product, replaced by crs.products_page.
drop function if exists crs.list_products();

-- How the admin page names a customer: first name, last initial and the phone's last three
-- digits, enough to recognise an order, not to contact anyone; null once purged.
create or replace function crs.customer_label(
  p_first_name text, p_last_name text, p_phone text, p_purged_at timestamptz
)
returns text
language sql
immutable
set search_path = crs, pg_temp
as $$
  select case when p_purged_at is null
              then p_first_name || ' ' || left(p_last_name, 1) || '. (…' || right(p_phone, 3) || ')'
         end;
$$;

-- The admin page's first list of orders, replaced by crs.orders_page (paged).
drop function if exists crs.list_orders(text, integer);

-- One page of a product's orders, newest first: those before (p_before_created,
-- p_before_order), the last row of the previous page, when given (keyset paging: every page
-- is an index range, however deep).
create or replace function crs.orders_page(
  p_product_id text, p_limit integer, p_before_created timestamptz, p_before_order text
)
returns table (
  order_id    text,
  product_id  text,
  status      text,
  customer    text,
  created_at  timestamptz,
  redeemed_at timestamptz
)
language sql
stable
security definer
set search_path = crs, pg_temp
as $$
  select o.order_id, o.product_id, o.status,
         crs.customer_label(o.first_name, o.last_name, o.phone, o.purged_at),
         o.created_at, o.redeemed_at
    from crs.orders o
   where o.product_id = p_product_id
     and (p_before_created is null
          or (o.created_at, o.order_id) < (p_before_created, coalesce(p_before_order, '')))
   order by o.created_at desc, o.order_id desc
   limit greatest(1, least(coalesce(p_limit, 50), 500));
$$;

-- Orders found by any of: their id, their coupon code (canonical), the phone (E.164, as
-- stored; the customer key is a keyed hash of it), or a part of the name ("first last",
-- lowercased, at least 3 characters). The caller passes what the query could be
-- (sql/admin.ts). Newest first, at most p_limit (1..200).
--
-- Planned for each call with the name pattern as a literal (EXECUTE): from the statistics of
-- the name index the planner then tells a rare name (found through the trigram index) from one
-- thousands of orders share (found by walking orders_created backwards until enough match),
-- which a generic plan cannot (migrations/000006_desk_and_search_indexes.sql).
create or replace function crs.search_orders(
  p_order_id text, p_coupon_code text, p_phone text, p_name text, p_limit integer
)
returns table (
  order_id    text,
  product_id  text,
  status      text,
  customer    text,
  coupon_code text,
  created_at  timestamptz,
  redeemed_at timestamptz
)
language plpgsql
stable
security definer
set search_path = crs, pg_temp
as $$
declare
  n       integer := greatest(1, least(coalesce(p_limit, 50), 200));
  -- A literal part of the name: LIKE's own characters in it match themselves.
  pattern text := case when char_length(p_name) >= 3
                       then '%' || replace(replace(replace(p_name, '\', '\\'), '%', '\%'), '_', '\_') || '%'
                  end;
begin
  return query execute format(
    $query$
    with found as (
      select o.* from crs.orders o where o.order_id = $1
      union
      select o.* from crs.orders o where o.coupon_code = $2
      union
      select o.* from crs.orders o where o.phone = $3
      union
      (select o.* from crs.orders o
        where %1$L::text is not null
          and o.purged_at is null
          and lower(o.first_name || ' ' || o.last_name) like %1$L
        order by o.created_at desc, o.order_id desc
        limit $4)
    )
    select f.order_id, f.product_id, f.status,
           crs.customer_label(f.first_name, f.last_name, f.phone, f.purged_at),
           f.coupon_code, f.created_at, f.redeemed_at
      from found f
     order by f.created_at desc, f.order_id desc
     limit $4
    $query$,
    pattern)
  using p_order_id, p_coupon_code, p_phone, n;
end
$$;

-- The pipeline as the admin page draws it (live, every few seconds): a product's orders per
-- minute over the last p_minutes minutes (oldest first, empty minutes included), and the
-- health of what follows an order: how far the CDC's slot is behind the WAL, render jobs
-- waiting, vouchers stored in the last minute, and the oldest order still without one. Each
-- figure is an index range (migrations/000006_desk_and_search_indexes.sql).
create or replace function crs.pipeline_status(p_product_id text, p_minutes integer)
returns table (
  minutes                     timestamptz[],
  orders_per_minute           bigint[],
  replication_lag_bytes       bigint,
  render_jobs_waiting         bigint,
  vouchers_last_minute        bigint,
  oldest_without_voucher_secs double precision
)
language sql
stable
security definer
set search_path = crs, pg_temp
as $$
  with span as (
    select generate_series(date_trunc('minute', now()) - (greatest(1, least(coalesce(p_minutes, 30), 120)) - 1)
                             * interval '1 minute',
                           date_trunc('minute', now()), interval '1 minute') as minute
  ), counted as (
    select date_trunc('minute', o.created_at) as minute, count(*) as n
      from crs.orders o
     where o.product_id = p_product_id
       and o.created_at >= (select min(minute) from span)
     group by 1
  )
  select array_agg(s.minute order by s.minute),
         array_agg(coalesce(c.n, 0) order by s.minute),
         (select max(pg_wal_lsn_diff(pg_current_wal_lsn(), r.confirmed_flush_lsn))::bigint
            from pg_replication_slots r
           where r.database = current_database() and r.slot_type = 'logical' and not r.temporary),
         -- graphile-worker's public view of its queue (installed before sql/ files run).
         (select count(*) from graphile_worker.jobs j
           where j.task_identifier = 'render_voucher' and j.attempts < j.max_attempts),
         (select count(*) from crs.orders v
           where v.status = 'voucher_ready' and v.purged_at is null
             and v.voucher_stored_at > now() - interval '1 minute'),
         (select extract(epoch from now() - min(w.created_at))::double precision
            from crs.orders w where w.status = 'reserved')
    from span s
    left join counted c using (minute);
$$;

-- Every order of a product with its details, oldest first, for the admin's CSV export: those
-- after (p_after_created, p_after_order) when given, at most p_limit (1..10000). The export
-- reads page after page, so no query holds the whole table.
create or replace function crs.export_orders(
  p_product_id text, p_after_created timestamptz, p_after_order text, p_limit integer
)
returns table (
  order_id          text,
  status            text,
  first_name        text,
  last_name         text,
  phone             text,
  coupon_code       text,
  created_at        timestamptz,
  voucher_stored_at timestamptz,
  redeemed_at       timestamptz
)
language sql
stable
security definer
set search_path = crs, pg_temp
as $$
  select o.order_id, o.status,
         case when o.purged_at is null then o.first_name end,
         case when o.purged_at is null then o.last_name end,
         case when o.purged_at is null then o.phone end,
         o.coupon_code, o.created_at, o.voucher_stored_at, o.redeemed_at
    from crs.orders o
   where o.product_id = p_product_id
     and (p_after_created is null
          or (o.created_at, o.order_id) > (p_after_created, coalesce(p_after_order, '')))
   order by o.created_at, o.order_id
   limit greatest(1, least(coalesce(p_limit, 1000), 10000));
$$;

-- The audit trail, newest first: at most p_limit (1..500) entries, those with an id below
-- p_before when it is given (the id of the last entry of the previous page).
create or replace function crs.read_audit_log(p_limit integer, p_before bigint)
returns table (
  id             bigint,
  at             timestamptz,
  actor_role     text,
  actor_id       text,
  client_address text,
  request_id     text,
  session_id     text,
  db_user        text,
  action         text,
  subject        text,
  details        jsonb
)
language sql
stable
security definer
set search_path = crs, pg_temp
as $$
  select a.id, a.at, a.actor_role, a.actor_id, host(a.client_address), a.request_id,
         a.session_id, a.db_user, a.action, a.subject, a.details
    from crs.audit_log a
   where p_before is null or a.id < p_before
   order by a.id desc
   limit greatest(1, least(coalesce(p_limit, 50), 500));
$$;

revoke all on function crs.products_page(text, integer) from public;
grant execute on function crs.products_page(text, integer) to crs_api;
revoke all on function crs.customer_label(text, text, text, timestamptz) from public;
revoke all on function crs.orders_page(text, integer, timestamptz, text) from public;
grant execute on function crs.orders_page(text, integer, timestamptz, text) to crs_api;
revoke all on function crs.search_orders(text, text, text, text, integer) from public;
grant execute on function crs.search_orders(text, text, text, text, integer) to crs_api;
revoke all on function crs.pipeline_status(text, integer) from public;
grant execute on function crs.pipeline_status(text, integer) to crs_api;
revoke all on function crs.export_orders(text, timestamptz, text, integer) from public;
grant execute on function crs.export_orders(text, timestamptz, text, integer) to crs_api;
revoke all on function crs.read_audit_log(integer, bigint) from public;
grant execute on function crs.read_audit_log(integer, bigint) to crs_api;
