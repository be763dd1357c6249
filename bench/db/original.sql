-- The ORIGINAL design of the order decision, kept only as a benchmark baseline.
--
-- The Python prototype decided each order by locking BOTH tables, products and orders, in
-- ACCESS EXCLUSIVE mode for the whole transaction: every order (and every read of either
-- table) waited for the one before it to commit. crs.place_order (sql/place_order.sql)
-- replaced that with per-order/per-customer advisory locks and sharded stock rows.
--
-- This file re-creates that design in its own schema, bench_original, so that pgbench can
-- compare the two (bench/db/run.sh). It never touches schema crs, except that it calls
-- crs.new_coupon_code() so both designs do the same coupon work per order. Apply it as
-- crs_owner to a benchmark database (never to production).

drop schema if exists bench_original cascade;
create schema bench_original;

create table bench_original.products (
  product_id text primary key,
  total      integer not null check (total >= 0),
  remaining  integer not null check (remaining >= 0)
);

create table bench_original.orders (
  order_id     text primary key,
  product_id   text not null,
  customer_key text not null,
  first_name   text not null,
  last_name    text not null,
  phone        text not null,
  coupon_code  text not null unique,
  unique (product_id, customer_key)
);

-- Same arguments and result columns as crs.place_order. The token arguments are accepted
-- for call compatibility; the prototype stored no tokens.
create function bench_original.place_order(
  p_order_id     text,
  p_product_id   text,
  p_customer_key text,
  p_first_name   text,
  p_last_name    text,
  p_phone        text,
  p_token_hash   bytea,
  p_token_salt   bytea,
  out outcome    text,
  out order_id   text,
  out status     text,
  out token_salt bytea,
  out created_at timestamptz
)
language plpgsql
set search_path = bench_original, pg_temp
as $$
declare
  existing bench_original.orders%rowtype;
  on_hand  integer;
begin
  order_id := p_order_id;

  -- The original design: one order at a time, for everyone.
  lock table bench_original.products, bench_original.orders in access exclusive mode;

  select * into existing from bench_original.orders o where o.order_id = p_order_id;
  if found then
    if existing.product_id = p_product_id
       and existing.customer_key = p_customer_key
       and existing.first_name = p_first_name
       and existing.last_name = p_last_name then
      outcome := 'replay';
      status := 'reserved';
    else
      outcome := 'order_id_conflict';
    end if;
    return;
  end if;

  if exists (select from bench_original.orders o
             where o.product_id = p_product_id and o.customer_key = p_customer_key) then
    outcome := 'duplicate_customer';
    return;
  end if;

  select p.remaining into on_hand from bench_original.products p where p.product_id = p_product_id;
  if not found then
    outcome := 'unknown_product';
    return;
  end if;
  if on_hand <= 0 then
    outcome := 'out_of_stock';
    return;
  end if;

  update bench_original.products p set remaining = p.remaining - 1
   where p.product_id = p_product_id;

  insert into bench_original.orders (order_id, product_id, customer_key, first_name, last_name,
                                     phone, coupon_code)
  values (p_order_id, p_product_id, p_customer_key, p_first_name, p_last_name, p_phone,
          crs.new_coupon_code());

  outcome := 'reserved';
  status := 'reserved';
  token_salt := p_token_salt;
  created_at := now();
end
$$;

revoke all on function bench_original.place_order(text, text, text, text, text, text, bytea, bytea) from public;
