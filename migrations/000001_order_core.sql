-- 000001: the order core. Products, their stock (split into shards), orders, and the roles
-- that may touch them. Functions live in sql/ (re-applied by `crs migrate` when they change);
-- this file holds only what must change through versioned, never-edited steps.

-- Roles are cluster-wide. Production creates them with passwords (CloudNativePG managed
-- roles); the local stack and the tests create them before migrating. When they are missing
-- and the migration owner may create roles, create them without LOGIN so grants below work.
do $$
declare
  role_name text;
begin
  foreach role_name in array array['crs_api', 'crs_cdc', 'crs_renderer'] loop
    if not exists (select from pg_roles where rolname = role_name) then
      begin
        execute format('create role %I nologin', role_name);
      exception when insufficient_privilege then
        raise exception 'role % does not exist and % may not create it', role_name, current_user
          using hint = 'create the roles crs_api, crs_cdc and crs_renderer first (see README, "Database roles")';
      end;
    end if;
  end loop;
end
$$;

create schema crs;
comment on schema crs is 'Cloud reservation system: products, stock and orders. Written only through functions.';

-- gen_random_bytes() for coupon codes: a CSPRNG inside the database (trusted extension).
create extension if not exists pgcrypto with schema crs;

create table crs.products (
  product_id  text primary key
              check (product_id ~ '^[A-Za-z0-9_-]{1,64}$'),
  name        text not null
              check (char_length(name) between 1 and 120),
  -- Everything ever made available; remaining = total - reserved.
  total       integer not null check (total >= 0),
  -- How many rows the remaining stock is spread over (see crs.stock_shards).
  shard_count smallint not null default 32 check (shard_count between 1 and 1024),
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);

-- The remaining stock of a product, split into shards so that concurrent orders lock
-- different rows (claimed with SKIP LOCKED in place_order). The product's remaining stock is
-- the sum over its shards. fillfactor leaves room for HOT updates of these hot rows.
create table crs.stock_shards (
  product_id text not null references crs.products on delete cascade,
  shard      smallint not null check (shard >= 0),
  remaining  integer not null check (remaining >= 0),
  primary key (product_id, shard)
) with (fillfactor = 50);

create table crs.orders (
  order_id     text primary key
               check (order_id ~ '^[A-Za-z0-9_-]{8,64}$'),
  product_id   text not null references crs.products,
  -- The customer key: the phone number normalised to E.164 by the API.
  customer_key text not null check (customer_key ~ '^\+[1-9][0-9]{6,14}$'),
  first_name   text not null check (char_length(first_name) between 1 and 100),
  last_name    text not null check (char_length(last_name) between 1 and 100),
  phone        text not null check (char_length(phone) between 1 and 32),
  coupon_code  text not null unique,
  -- sha256 of the order access token; the token itself is never stored.
  token_hash   bytea not null check (octet_length(token_hash) = 32),
  -- Random input of the token derivation, so a replay can answer with the same token.
  token_salt   bytea not null check (octet_length(token_salt) = 16),
  status       text not null default 'reserved'
               check (status in ('reserved', 'voucher_ready', 'redeemed', 'cancelled')),
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now(),
  -- One order per customer per product, whatever the concurrency.
  constraint orders_one_per_customer unique (product_id, customer_key)
);

create index orders_product_created on crs.orders (product_id, created_at);

-- Least privilege: nobody but the owner touches tables; roles get EXECUTE on the functions
-- they need (granted next to each function in sql/). Functions are executable by PUBLIC by
-- default, so take that away for everything created in this schema.
revoke all on schema crs from public;
alter default privileges in schema crs revoke execute on functions from public;
grant usage on schema crs to crs_api, crs_cdc, crs_renderer;

-- The CDC consumer reads what it replicates (the publication comes with the CDC migration).
grant select on crs.products, crs.stock_shards, crs.orders to crs_cdc;
