-- place_order: the one call that decides an order.
--
-- Guarantees, under any concurrency: never more reservations than stock, at most one order
-- per customer key per product, and an order id decides once (a replay with the same details
-- gets the first answer back; other details are a conflict).
--
-- Locking. The original design locked the products and orders tables in ACCESS EXCLUSIVE
-- mode for every order, which serialises all work, reads included. Here:
--   1. a transaction-scoped advisory lock on the order id, then one on the customer key:
--      requests for the same order or the same customer queue behind each other, everything
--      else proceeds;
--   2. one unit of stock is claimed from one of the product's stock shards with
--      FOR UPDATE SKIP LOCKED, so concurrent orders take different rows instead of queueing
--      on one. An order never waits for a shard: when every shard that still has stock is
--      held by another order (near sell-out), it looks again after a short pause, until a
--      unit is free or none is left, and answers out_of_stock only when no shard has stock.
--      (A blocking FOR UPDATE fallback deadlocks near sell-out: a row that fails its re-check
--      after the wait stays locked, so waiters end up holding shards others wait for.)
-- Waits happen only on the two advisory locks, always taken in the same order and before any
-- row lock, so no wait cycle can form. lock_timeout bounds those waits, and the retry loop
-- gives up after the same time with the same SQLSTATE 55P03; the API answers both with 503.
--
-- Outcomes: reserved, replay, order_id_conflict, duplicate_customer, out_of_stock,
-- unknown_product. Only 'reserved' writes anything.

drop function if exists crs.place_order(text, text, text, text, text, text, bytea, bytea);

create function crs.place_order(
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
security definer
set search_path = crs, pg_temp
set lock_timeout = '2s'
as $$
declare
  existing    crs.orders%rowtype;
  shard_count smallint;
  start_shard int;
  claimed     smallint;
  deadline    timestamptz;
  pause       double precision := 0.0005;
begin
  order_id := p_order_id;

  -- 1. Serialise per order id, then per customer (hashes; a collision only costs a wait).
  perform pg_advisory_xact_lock(hashtextextended('crs.order:' || p_order_id, 0));
  perform pg_advisory_xact_lock(hashtextextended('crs.customer:' || p_product_id || ':' || p_customer_key, 0));

  select * into existing from crs.orders o where o.order_id = p_order_id;
  if found then
    if existing.product_id = p_product_id
       and existing.customer_key = p_customer_key
       and existing.first_name = p_first_name
       and existing.last_name = p_last_name then
      outcome := 'replay';
      status := existing.status;
      token_salt := existing.token_salt;
      created_at := existing.created_at;
    else
      outcome := 'order_id_conflict';
    end if;
    return;
  end if;

  -- Holding the customer lock, any earlier order of this customer has committed and is seen.
  if exists (select from crs.orders o
             where o.product_id = p_product_id and o.customer_key = p_customer_key) then
    outcome := 'duplicate_customer';
    return;
  end if;

  select p.shard_count into shard_count from crs.products p where p.product_id = p_product_id;
  if not found then
    outcome := 'unknown_product';
    return;
  end if;

  -- 2. Claim one unit from any shard nobody holds, starting at a random one so concurrent
  -- orders spread over the shards.
  deadline := clock_timestamp() + interval '2 seconds';
  loop
    start_shard := floor(random() * shard_count)::int;
    select s.shard into claimed
      from crs.stock_shards s
     where s.product_id = p_product_id and s.remaining > 0
     order by (s.shard - start_shard + shard_count) % shard_count
     limit 1
       for update skip locked;
    exit when found;

    -- Nothing free: either no stock is left, or what is left is held by orders in flight
    -- (which will take it or give it back within milliseconds). Read without locking.
    if not exists (select from crs.stock_shards s
                   where s.product_id = p_product_id and s.remaining > 0) then
      outcome := 'out_of_stock';
      return;
    end if;
    if clock_timestamp() > deadline then
      raise exception 'no stock shard of % became free in time', p_product_id
        using errcode = 'lock_not_available';
    end if;
    pause := least(pause * 2, 0.02);
    perform pg_sleep(pause);
  end loop;

  update crs.stock_shards s set remaining = s.remaining - 1
   where s.product_id = p_product_id and s.shard = claimed;

  insert into crs.orders as o (order_id, product_id, customer_key, first_name, last_name, phone,
                               coupon_code, token_hash, token_salt)
  values (p_order_id, p_product_id, p_customer_key, p_first_name, p_last_name, p_phone,
          new_coupon_code(), p_token_hash, p_token_salt)
  returning o.status, o.token_salt, o.created_at into status, token_salt, created_at;

  outcome := 'reserved';
end
$$;

revoke all on function crs.place_order(text, text, text, text, text, text, bytea, bytea) from public;
grant execute on function crs.place_order(text, text, text, text, text, text, bytea, bytea) to crs_api;
