-- place_orders: the one call that decides orders, many at a time.
--
-- Why many at a time. Every order decided in a transaction of its own costs one commit (one
-- WAL flush); on a small server that caps intake near the flush rate however clever the
-- locking. The API therefore hands over the orders that arrive together (group commit, as
-- flash-sale systems do for a hot row): one call, one transaction, one flush for all of them,
-- and one answer per order. A lone order is simply a batch of one.
--
-- Guarantees, per order, under any concurrency and any mix of batches: never more
-- reservations than stock, at most one order per customer key (a keyed hash of the phone,
-- see sql/privacy.sql) per product, and an order id decides once (a replay with the same
-- details gets the first answer back; other details, or an order whose names were purged, are
-- a conflict). Orders of one batch are decided in the order given, exactly as if they came one
-- after another: a duplicate or invalid order in a batch is refused alone and never fails its
-- neighbours. Only a failure of the whole call (a lost connection, a lock timeout) fails the
-- batch, and then nothing of it was written.
--
-- Locking. The original design locked the products and orders tables in ACCESS EXCLUSIVE
-- mode for every order, which serialises all work, reads included. Here:
--   1. transaction-scoped advisory locks on every order id and customer key of the batch,
--      taken in ascending key order: calls for the same order or the same customer queue
--      behind each other, everything else proceeds, and since every call takes its keys in
--      the same global order no two calls can wait on each other in a cycle;
--   2. the units the batch needs are claimed from the product's stock shards with
--      FOR UPDATE SKIP LOCKED: one free shard holding enough for the whole batch when there
--      is one (the common case), else one cursor row at a time, so a batch locks only the
--      shards it drains; concurrent batches take different rows instead of queueing on one.
--      A batch never waits for a shard. When it finds fewer free units than it needs while other
--      transactions hold shards that still have stock (near sell-out), it gives back what it
--      took and the row locks with it (a rolled-back subtransaction), pauses briefly and tries
--      again, so two short batches cannot hold half the stock each and wait for the other.
--      It answers out_of_stock only when no shard has stock. (A blocking FOR UPDATE fallback
--      deadlocks near sell-out: a row that fails its re-check after the wait stays locked.)
--   3. units claimed for orders that turn out to be replays or refusals go back to a shard
--      the batch holds, before it commits.
-- Cost. Work per order is kept to array operations in PL/pgSQL: what the tables hold for the
-- batch's ids and customers is read with two queries, the decisions are made in memory, and
-- the reserved orders are written with one INSERT.
-- Waits happen only on the advisory locks, all taken before any row lock; lock_timeout bounds
-- them and raises SQLSTATE 55P03, which the API answers with 503 (nothing written). A batch
-- that is still short when its 2 seconds are over answers `busy` for the orders it could not
-- serve while others hold stock (the API answers those with 503 too).
--
-- Outcomes: reserved, replay, order_id_conflict, duplicate_customer, out_of_stock,
-- unknown_product, busy. Only 'reserved' writes an order.

create or replace function crs.place_orders(
  p_order_ids     text[],
  p_product_ids   text[],
  p_customer_keys text[],
  p_first_names   text[],
  p_last_names    text[],
  p_phones        text[],
  p_token_hashes  bytea[],
  p_token_salts   bytea[]
)
returns table (
  idx        integer,
  outcome    text,
  order_id   text,
  status     text,
  token_salt bytea,
  created_at timestamptz
)
language plpgsql
security definer
set search_path = crs, pg_temp
set lock_timeout = '2s'
-- Plan each statement once per session: with array parameters the planner would otherwise
-- keep making custom plans, and planning cost more than running (half the call's time).
set plan_cache_mode = force_generic_plan
-- Every table this function reads, it reads by key. Those generic plans are made on a
-- session's first call and kept until the table's statistics change, so a plan made while
-- crs.orders was empty (a fresh database, a first sale) stayed a scan of the whole table as it
-- grew (the ids' lookup, `= any`, is guessed at 10 rows), until autovacuum's first analyze
-- made the sessions plan again. With
-- sequential scans off the plan is the primary key's whatever the table held (the customers'
-- lookup needs more: see step 2).
set enable_seqscan = off
-- Those disabled scans carry a huge cost (e.g. of the one-row key table, which has no index),
-- and a plan that costly is compiled by JIT: 10-50 ms per call, for nothing a statement
-- reading a few rows by key could gain.
set jit = off
as $$
declare
  n             integer := coalesce(cardinality(p_order_ids), 0);
  lock_key      bigint;
  -- What the tables already hold for this batch's ids and customers (read once, under the
  -- advisory locks, so nothing can change them until commit):
  old_ids       text[];
  old_products  text[];
  old_customers text[];
  old_firsts    text[];
  old_lasts     text[];
  old_statuses  text[];
  old_salts     bytea[];
  old_created   timestamptz[];
  taken         text[];     -- product || ' ' || customer key of existing orders
  -- Per distinct product of the batch (parallel arrays; batches are small, so array_position
  -- is as fast as anything fancier):
  products      text[];
  known         boolean[];  -- the product exists
  units         integer[];  -- units claimed and not yet given to an order
  spare_shard   smallint[]; -- a shard this batch holds, where unused units go back
  short_busy    boolean[];  -- still short at the deadline while others held stock
  -- The decisions, one per order:
  outcomes      text[] := array_fill(null::text, array[n]);
  statuses      text[] := array_fill(null::text, array[n]);
  salts         bytea[] := array_fill(null::bytea, array[n]);
  createds      timestamptz[] := array_fill(null::timestamptz, array[n]);
  reserved      integer[] := '{}';  -- positions of the orders to insert
  new_ids       text[] := '{}';     -- their ids and customers, for the checks of later orders
  new_customers text[] := '{}';
  i             integer;
  j             integer;
  p             integer;
  need          integer;
  got           integer;
  held          smallint;
  shard_count   smallint;
  start_shard   integer;
  cur           refcursor;
  r_shard       smallint;
  r_remaining   integer;
  take          integer;
  deadline      timestamptz;
  pause         double precision;
begin
  if n > 1000 then
    raise exception 'at most 1000 orders per call, got %', n using errcode = '22023';
  end if;
  if coalesce(cardinality(p_product_ids), 0) <> n or coalesce(cardinality(p_customer_keys), 0) <> n
     or coalesce(cardinality(p_first_names), 0) <> n or coalesce(cardinality(p_last_names), 0) <> n
     or coalesce(cardinality(p_phones), 0) <> n or coalesce(cardinality(p_token_hashes), 0) <> n
     or coalesce(cardinality(p_token_salts), 0) <> n then
    raise exception 'every argument array must have one element per order' using errcode = '22023';
  end if;
  if n = 0 then
    return;
  end if;
  -- The API passes each customer's E.164 phone as the customer key; what is compared and
  -- stored is its keyed hash (sql/privacy.sql), so the key column never holds the phone and
  -- one-per-customer still holds after the phone is purged. One array operation per call.
  p_customer_keys := crs.customer_key_hashes(p_customer_keys);

  -- 1. Serialise per order id and per customer (hashes; a collision only costs a wait), in
  -- one global order. A loop, so that the order of the calls is the order of the keys.
  for lock_key in
    select distinct k
      from (select hashtextextended('crs.order:' || u.o, 0)
              from unnest(p_order_ids) as u(o)
            union all
            select hashtextextended('crs.customer:' || u.p || ':' || u.c, 0)
              from unnest(p_product_ids, p_customer_keys) as u(p, c)) as keys(k)
     order by k
  loop
    perform pg_advisory_xact_lock(lock_key);
  end loop;

  -- 2. What is already decided for these ids and customers: two index lookups per order,
  -- done as two queries for the batch.
  select coalesce(array_agg(o.order_id), '{}'), array_agg(o.product_id), array_agg(o.customer_key),
         array_agg(o.first_name), array_agg(o.last_name), array_agg(o.status),
         array_agg(o.token_salt), array_agg(o.created_at)
    into old_ids, old_products, old_customers, old_firsts, old_lasts, old_statuses, old_salts,
         old_created
    from crs.orders o
   where o.order_id = any (p_order_ids);
  -- The customers' lookup is planned for each call (EXECUTE, about 0.15 ms): two indexes
  -- start with product_id, and a plan made while crs.orders was empty chose the other one
  -- (product_id, created_at) and kept it, so each lookup read every order of the product.
  -- Planned with the table's
  -- actual size, the unique index (one row per product and customer) always wins.
  execute $lookup$
    select coalesce(array_agg(o.product_id || ' ' || o.customer_key), '{}')
      from unnest($1::text[], $2::text[]) as b(p, c)
     cross join lateral (select o.product_id, o.customer_key
                           from crs.orders o
                          where o.product_id = b.p and o.customer_key = b.c) as o
  $lookup$ into taken using p_product_ids, p_customer_keys;

  -- 3. Claim one unit per order of each product (an upper bound: replays and refusals give
  -- theirs back in step 5).
  select array_agg(x.product_id order by x.product_id) into products
    from (select distinct u.product_id from unnest(p_product_ids) as u(product_id)) as x;
  for p in 1 .. cardinality(products) loop
    need := cardinality(array_positions(p_product_ids, products[p]));
    known[p] := false;
    units[p] := 0;
    short_busy[p] := false;

    select pr.shard_count into shard_count from crs.products pr where pr.product_id = products[p];
    continue when not found;
    known[p] := true;
    -- Start at a random shard so concurrent batches spread over the shards.
    start_shard := floor(random() * shard_count)::integer;

    -- The common case first: one free shard holds enough for the whole batch.
    select s.shard into r_shard
      from crs.stock_shards s
     where s.product_id = products[p] and s.remaining >= need
     order by (s.shard - start_shard + shard_count) % shard_count
     limit 1
       for update skip locked;
    if found then
      update crs.stock_shards s set remaining = s.remaining - need
       where s.product_id = products[p] and s.shard = r_shard;
      units[p] := need;
      spare_shard[p] := r_shard;
      continue;
    end if;

    -- Otherwise gather units shard by shard.
    deadline := clock_timestamp() + interval '2 seconds';
    pause := 0.0005;
    <<claim>>
    loop
      got := 0;
      held := null;
      begin
        open cur for
          select s.shard, s.remaining
            from crs.stock_shards s
           where s.product_id = products[p] and s.remaining > 0
           order by (s.shard - start_shard + shard_count) % shard_count
             for update skip locked;
        loop
          fetch cur into r_shard, r_remaining;
          exit when not found;
          take := least(r_remaining, need - got);
          update crs.stock_shards s set remaining = s.remaining - take
           where s.product_id = products[p] and s.shard = r_shard;
          got := got + take;
          held := r_shard;
          exit when got = need;
        end loop;
        close cur;

        -- Short, while other transactions hold shards that still have stock (every shard this
        -- batch locked is drained, so any stock seen is theirs): let go of everything and try
        -- again, unless the time is up.
        if got < need
           and exists (select from crs.stock_shards s
                        where s.product_id = products[p] and s.remaining > 0) then
          if clock_timestamp() < deadline then
            raise exception 'short of stock while others hold it' using errcode = 'CR001';
          end if;
          short_busy[p] := true;
        end if;
      exception when sqlstate 'CR001' then
        -- The subtransaction rolled back: the units and the row locks are released.
        pause := least(pause * 2, 0.02);
        perform pg_sleep(pause * (0.5 + random()));
        start_shard := floor(random() * shard_count)::integer;
        continue claim;
      end;
      exit claim;
    end loop;
    units[p] := got;
    spare_shard[p] := held;
  end loop;

  -- 4. Decide each order, in the order given, as if they came one after another: against
  -- the tables as read in step 2 and the orders reserved before it in this batch.
  for i in 1 .. n loop
    p := array_position(products, p_product_ids[i]);
    j := array_position(old_ids, p_order_ids[i]);
    if j is not null then
      if old_products[j] = p_product_ids[i] and old_customers[j] = p_customer_keys[i]
         and old_firsts[j] = p_first_names[i] and old_lasts[j] = p_last_names[i] then
        outcomes[i] := 'replay';
        statuses[i] := old_statuses[j];
        salts[i] := old_salts[j];
        createds[i] := old_created[j];
      else
        outcomes[i] := 'order_id_conflict';
      end if;
      continue;
    end if;
    j := array_position(new_ids, p_order_ids[i]);
    if j is not null then
      j := reserved[j];
      if p_product_ids[j] = p_product_ids[i] and p_customer_keys[j] = p_customer_keys[i]
         and p_first_names[j] = p_first_names[i] and p_last_names[j] = p_last_names[i] then
        outcomes[i] := 'replay';
        statuses[i] := 'reserved';
        salts[i] := p_token_salts[j];
        createds[i] := now();
      else
        outcomes[i] := 'order_id_conflict';
      end if;
      continue;
    end if;
    if (p_product_ids[i] || ' ' || p_customer_keys[i]) = any (taken)
       or (p_product_ids[i] || ' ' || p_customer_keys[i]) = any (new_customers) then
      outcomes[i] := 'duplicate_customer';
    elsif not known[p] then
      outcomes[i] := 'unknown_product';
    elsif units[p] = 0 then
      outcomes[i] := case when short_busy[p] then 'busy' else 'out_of_stock' end;
    else
      units[p] := units[p] - 1;
      reserved := reserved || i;
      new_ids := new_ids || p_order_ids[i];
      new_customers := new_customers || (p_product_ids[i] || ' ' || p_customer_keys[i]);
      outcomes[i] := 'reserved';
      statuses[i] := 'reserved';
      salts[i] := p_token_salts[i];
      createds[i] := now();
    end if;
  end loop;

  -- 5. One insert for every reserved order (created_at defaults to now(), as answered), and
  -- units claimed for orders that did not take one go back to a shard this batch holds.
  insert into crs.orders as o (order_id, product_id, customer_key, first_name, last_name, phone,
                               coupon_code, token_hash, token_salt)
  select p_order_ids[r.i], p_product_ids[r.i], p_customer_keys[r.i], p_first_names[r.i],
         p_last_names[r.i], p_phones[r.i], new_coupon_code(), p_token_hashes[r.i],
         p_token_salts[r.i]
    from unnest(reserved) as r(i);
  for p in 1 .. cardinality(products) loop
    if units[p] > 0 then
      update crs.stock_shards s set remaining = s.remaining + units[p]
       where s.product_id = products[p] and s.shard = spare_shard[p];
    end if;
  end loop;

  return query
    select d.i::integer, d.outcome, p_order_ids[d.i], d.status, d.salt, d.created
      from unnest(outcomes, statuses, salts, createds) with ordinality as d(outcome, status, salt, created, i)
     order by d.i;
end
$$;

-- place_order: one order, for callers that have one (scripts, tests, pgbench). The same
-- decision as a batch of one; `busy` becomes SQLSTATE 55P03 as a lock timeout would.
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
set plan_cache_mode = force_generic_plan
as $$
begin
  select b.outcome, b.order_id, b.status, b.token_salt, b.created_at
    into outcome, order_id, status, token_salt, created_at
    from crs.place_orders(array[p_order_id], array[p_product_id], array[p_customer_key],
                          array[p_first_name], array[p_last_name], array[p_phone],
                          array[p_token_hash], array[p_token_salt]) as b;
  if outcome = 'busy' then
    raise exception 'no stock shard of % became free in time', p_product_id
      using errcode = 'lock_not_available';
  end if;
end
$$;

revoke all on function crs.place_orders(text[], text[], text[], text[], text[], text[], bytea[], bytea[]) from public;
revoke all on function crs.place_order(text, text, text, text, text, text, bytea, bytea) from public;
grant execute on function crs.place_orders(text[], text[], text[], text[], text[], text[], bytea[], bytea[]) to crs_api;
grant execute on function crs.place_order(text, text, text, text, text, text, bytea, bytea) to crs_api;
