-- Reading one order, for its owner (the API checks the access token against token_hash).

-- The result gained voucher columns; a function's result type cannot change in place.
drop function if exists crs.get_order(text);

create function crs.get_order(p_order_id text)
returns table (
  order_id          text,
  product_id        text,
  status            text,
  token_hash        bytea,
  created_at        timestamptz,
  voucher_key       text,
  voucher_stored_at timestamptz,
  redeemed_at       timestamptz,
  -- For the order page: the product's name as its heading, and the coupon code, which the
  -- page shows (to the holder of the order token only) once the voucher is ready.
  product_name      text,
  coupon_code       text
)
language sql
stable
security definer
set search_path = crs, pg_temp
as $$
  select o.order_id, o.product_id, o.status, o.token_hash, o.created_at, o.voucher_key,
         o.voucher_stored_at, o.redeemed_at, p.name, o.coupon_code
    from crs.orders o
    join crs.products p using (product_id)
   where o.order_id = p_order_id;
$$;

revoke all on function crs.get_order(text) from public;
grant execute on function crs.get_order(text) to crs_api;

-- The vouchers already stored among some orders, in one query: the API asks it for every event
-- stream still waiting (a notification can be missed while RabbitMQ is away), due ones
-- together, instead of once per stream.
create or replace function crs.orders_with_vouchers(p_order_ids text[])
returns table (
  order_id          text,
  voucher_key       text,
  voucher_stored_at timestamptz
)
language sql
stable
security definer
set search_path = crs, pg_temp
as $$
  select o.order_id, o.voucher_key, o.voucher_stored_at
    from crs.orders o
   where o.order_id = any (p_order_ids)
     and o.voucher_key is not null;
$$;

revoke all on function crs.orders_with_vouchers(text[]) from public;
grant execute on function crs.orders_with_vouchers(text[]) to crs_api;
