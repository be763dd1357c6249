-- crs:no-transaction
-- Indexes for the staff desk and the admin page's search, built CONCURRENTLY so orders,
-- redemptions and stock changes go on while they build; each statement is safe to run again
-- after a failure (crs migrate repeats a no-transaction file whole).

-- Who redeemed a coupon (crs.get_desk_voucher): the successful redeem entry of an order, not a
-- scan of the whole audit trail (one entry per redemption attempt).
drop index concurrently if exists crs.audit_log_redeemed_order;
create index concurrently audit_log_redeemed_order
  on crs.audit_log ((details ->> 'orderId'))
  where action = 'redeem' and details ->> 'outcome' = 'redeemed';

-- Search by phone (crs.search_orders): the stored E.164 number (the customer key is a keyed
-- hash of it, and its unique index leads with the product).
drop index concurrently if exists crs.orders_phone;
create index concurrently orders_phone on crs.orders (phone);

-- Search by any part of a name: trigrams of "first last", lowercased (pg_trgm is a trusted
-- extension, as pgcrypto is; the table owner may create it).
create extension if not exists pg_trgm with schema crs;
drop index concurrently if exists crs.orders_name_trigrams;
create index concurrently orders_name_trigrams
  on crs.orders using gin (lower(first_name || ' ' || last_name) crs.gin_trgm_ops);

-- The newest orders across products (search results, newest first): a name many orders share
-- is answered by walking this index backwards until enough match, not by sorting them all.
drop index concurrently if exists crs.orders_created;
create index concurrently orders_created on crs.orders (created_at, order_id);

-- A product's orders a page at a time (crs.orders_page, crs.export_orders): the keyset
-- (created_at, order_id) is an index range only when both columns follow the product in one
-- index; with (product_id, created_at) alone every page rescanned the product from its start.
-- The new index serves everything the old one did, which then goes.
drop index concurrently if exists crs.orders_product_created_order;
create index concurrently orders_product_created_order on crs.orders (product_id, created_at, order_id);
drop index concurrently if exists crs.orders_product_created;

-- The admin page's pipeline panel (crs.pipeline_status): the oldest order still waiting for
-- its voucher, from the few that wait, not from every order.
drop index concurrently if exists crs.orders_awaiting_voucher;
create index concurrently orders_awaiting_voucher on crs.orders (created_at) where status = 'reserved';
