-- Stock: reading a product's stock, and the admin's create-or-update of a product.

-- The stock of one product, or no row when it does not exist.
create or replace function crs.get_stock(p_product_id text)
returns table (product_id text, name text, total integer, remaining integer)
language sql
stable
security definer
set search_path = crs, pg_temp
as $$
  select p.product_id, p.name, p.total,
         coalesce((select sum(s.remaining)::integer
                     from crs.stock_shards s
                    where s.product_id = p.product_id), 0)
    from crs.products p
   where p.product_id = p_product_id;
$$;

-- Spreads `remaining` units over the product's shards 0..p_shards-1 as evenly as possible and
-- removes any shard beyond them (left by a larger shard_count: its stock would otherwise be
-- sold on top). The caller holds the product row and all its shard rows locked.
create or replace function crs.spread_stock(p_product_id text, p_remaining integer, p_shards smallint)
returns void
language sql
set search_path = crs, pg_temp
as $$
  delete from crs.stock_shards s where s.product_id = p_product_id and s.shard >= p_shards;
  insert into crs.stock_shards as s (product_id, shard, remaining)
  select p_product_id, i, p_remaining / p_shards + case when i < p_remaining % p_shards then 1 else 0 end
    from generate_series(0, p_shards - 1) as i
  on conflict (product_id, shard) do update set remaining = excluded.remaining;
$$;

-- Creates a product or changes its name and total. The total may not drop below what is
-- already reserved. Outcomes: created, updated, below_reserved (nothing written).
--
-- Every call that reaches a decision appends one crs.audit_log entry (action stock_set,
-- subject the product id) in the same transaction: who (p_actor, see crs.write_audit; null
-- for the database's own callers) and what (the outcome, the stock before and after, and
-- what was asked). A refused change is recorded too, with its stock unchanged.
--
-- Locks: the product row FOR NO KEY UPDATE (orders only take KEY SHARE on it through their
-- foreign key, so they are not blocked), then every shard in shard order. An order holds at
-- most one shard and waits for nothing after it, so this cannot deadlock with orders.

-- The signature gained p_actor; a default keeps the three-argument calls of scripts working
-- but both forms cannot exist side by side.
drop function if exists crs.upsert_product(text, text, integer);

create or replace function crs.upsert_product(
  p_product_id text,
  p_name       text,
  p_total      integer,
  p_actor      jsonb default null,
  out outcome  text,
  out product_id text,
  out name     text,
  out total    integer,
  out remaining integer,
  out reserved integer
)
language plpgsql
security definer
set search_path = crs, pg_temp
set lock_timeout = '5s'
as $$
declare
  existing     crs.products%rowtype;
  on_hand      integer;
  asked        jsonb := jsonb_build_object('name', p_name, 'total', p_total);
  stock_before jsonb;
begin
  product_id := p_product_id;
  if p_total is null or p_total < 0 then
    raise exception 'total must be a non-negative integer' using errcode = '22023';
  end if;

  select * into existing from crs.products p where p.product_id = p_product_id for no key update;

  if not found then
    insert into crs.products as p (product_id, name, total)
    values (p_product_id, coalesce(p_name, p_product_id), p_total)
    on conflict do nothing
    returning * into existing;
    if not found then
      -- Created concurrently: decide again as an update.
      select * into existing from crs.products p where p.product_id = p_product_id for no key update;
    else
      perform crs.spread_stock(p_product_id, p_total, existing.shard_count);
      outcome := 'created';
      name := existing.name;
      total := p_total;
      remaining := p_total;
      reserved := 0;
      perform crs.write_audit(p_actor, 'stock_set', p_product_id, jsonb_build_object(
        'outcome', outcome, 'requested', asked, 'before', null,
        'after', jsonb_build_object('name', name, 'total', total, 'remaining', remaining,
                                    'reserved', 0)));
      return;
    end if;
  end if;

  perform from crs.stock_shards s where s.product_id = p_product_id order by s.shard for update;
  select coalesce(sum(s.remaining), 0)::integer into on_hand
    from crs.stock_shards s where s.product_id = p_product_id;
  reserved := existing.total - on_hand;
  stock_before := jsonb_build_object('name', existing.name, 'total', existing.total,
                                     'remaining', on_hand, 'reserved', reserved);

  if p_total < reserved then
    outcome := 'below_reserved';
    name := existing.name;
    total := existing.total;
    remaining := on_hand;
    perform crs.write_audit(p_actor, 'stock_set', p_product_id, jsonb_build_object(
      'outcome', outcome, 'requested', asked, 'before', stock_before, 'after', stock_before));
    return;
  end if;

  update crs.products p
     set name = coalesce(p_name, p.name), total = p_total, updated_at = now()
   where p.product_id = p_product_id
  returning p.name into name;
  perform crs.spread_stock(p_product_id, p_total - reserved, existing.shard_count);

  outcome := 'updated';
  total := p_total;
  remaining := p_total - reserved;
  perform crs.write_audit(p_actor, 'stock_set', p_product_id, jsonb_build_object(
    'outcome', outcome, 'requested', asked, 'before', stock_before,
    'after', jsonb_build_object('name', name, 'total', total, 'remaining', remaining,
                                'reserved', reserved)));
end
$$;

-- Creates the product with this stock if it does not exist; never changes an existing one.
-- Used by `crs migrate` for the default product (STOCK applies only at first creation).
create or replace function crs.ensure_product(p_product_id text, p_name text, p_total integer)
returns boolean
language plpgsql
security definer
set search_path = crs, pg_temp
as $$
begin
  if exists (select from crs.products p where p.product_id = p_product_id) then
    return false;
  end if;
  perform crs.upsert_product(p_product_id, p_name, p_total,
                             jsonb_build_object('role', 'system', 'id', 'crs-migrate'));
  return true;
end
$$;

revoke all on function crs.get_stock(text) from public;
revoke all on function crs.spread_stock(text, integer, smallint) from public;
revoke all on function crs.upsert_product(text, text, integer, jsonb) from public;
revoke all on function crs.ensure_product(text, text, integer) from public;
grant execute on function crs.get_stock(text) to crs_api;
grant execute on function crs.upsert_product(text, text, integer, jsonb) to crs_api;

-- Every product's stock with its shards, for `crs reconcile` (run as crs_cdc, which may read
-- these tables). Call it after reading pg_current_wal_lsn(): see cdc/reconcile.ts.
create or replace function crs.stock_snapshot()
returns table (product_id text, name text, total integer, shards integer[])
language sql
stable
set search_path = crs, pg_temp
as $$
  select p.product_id, p.name, p.total,
         coalesce(array(select s.remaining from crs.stock_shards s
                         where s.product_id = p.product_id order by s.shard), '{}')
    from crs.products p
   order by p.product_id;
$$;

revoke all on function crs.stock_snapshot() from public;
grant execute on function crs.stock_snapshot() to crs_cdc;
