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
--      on one. Only when every shard that still has stock is locked by someone else does the
--      order wait, on one shard (a plain FOR UPDATE, re-checked when the lock is released), so
--      "out of stock" is answered only when it is true.
-- Every transaction takes these locks in the same order (order id, customer, one shard) and
-- holds at most one of each, so no wait cycle, hence no deadlock, can form. lock_timeout turns
-- a lock that is stuck for any reason into SQLSTATE 55P03, which the API answers with 503.
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

  -- 2. Claim one unit: first from any shard nobody holds, starting at a random one so
  -- concurrent orders spread over the shards.
  start_shard := floor(random() * shard_count)::int;
  select s.shard into claimed
    from crs.stock_shards s
   where s.product_id = p_product_id and s.remaining > 0
   order by (s.shard - start_shard + shard_count) % shard_count
   limit 1
     for update skip locked;

  if not found then
    -- Every shard with stock is locked (or none has any): wait for one. Rows whose stock
    -- ran out while we waited are re-checked and passed over, so "not found" is the truth.
    select s.shard into claimed
      from crs.stock_shards s
     where s.product_id = p_product_id and s.remaining > 0
     limit 1
       for update;
    if not found then
      outcome := 'out_of_stock';
      return;
    end if;
  end if;

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
