-- The admin page's reads: every product's stock, the latest orders, and the audit trail.
-- Personal data leaves the database already shortened (first name, last initial, the phone's
-- last three digits): the page needs to recognise an order, not to contact anyone.

create or replace function crs.list_products()
returns table (product_id text, name text, total integer, remaining integer)
language sql
stable
security definer
set search_path = crs, pg_temp
as $$
  select s.product_id, s.name, s.total, s.remaining
    from crs.products p
   cross join lateral crs.get_stock(p.product_id) s
   order by p.product_id;
$$;

-- The newest orders first (all products, or one), at most p_limit (1..500) of them. The
-- customer is null once the order's personal data was purged.
create or replace function crs.list_orders(p_product_id text, p_limit integer)
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
         case when o.purged_at is null
              then o.first_name || ' ' || left(o.last_name, 1) || '. (…' || right(o.phone, 3) || ')'
         end,
         o.created_at, o.redeemed_at
    from crs.orders o
   where p_product_id is null or o.product_id = p_product_id
   order by o.created_at desc, o.order_id
   limit greatest(1, least(coalesce(p_limit, 50), 500));
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

revoke all on function crs.list_products() from public;
revoke all on function crs.list_orders(text, integer) from public;
grant execute on function crs.list_products() to crs_api;
grant execute on function crs.list_orders(text, integer) to crs_api;
revoke all on function crs.read_audit_log(integer, bigint) from public;
grant execute on function crs.read_audit_log(integer, bigint) to crs_api;
