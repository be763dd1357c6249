-- 000004: personal data kept only as long as needed, and an audit trail.
--
-- 1. The customer key stops being the phone number: it becomes a keyed hash (HMAC-SHA256) of
--    the E.164 phone, so one order per customer per product still holds after the name and
--    phone are purged, and the key column alone identifies nobody.
-- 2. Orders get purged_at: crs.purge_personal_data (sql/privacy.sql) blanks the names and the
--    phone some days after the voucher was redeemed or expired.
-- 3. crs.audit_log: who changed stock or redeemed a coupon, when, and what happened, written
--    by the same functions that make the change (sql/stock.sql, sql/vouchers.sql).

-- 1. The key of the customer hash. Generated here, inside the database, and never leaves it:
-- only the owner (the security-definer functions) can read it; no role has any grant on it.
-- Backups and replicas carry it with the data, so the hashes stay comparable after a restore.
-- Losing it (or rotating it without rehashing every order) would let a customer order again.
create table crs.customer_key_secret (
  only_row   boolean primary key default true check (only_row),
  secret     bytea not null check (octet_length(secret) = 32),
  created_at timestamptz not null default now()
);
comment on table crs.customer_key_secret is
  'The HMAC key of crs.orders.customer_key (one row). Owner only; never granted, never replicated.';
insert into crs.customer_key_secret (secret) values (crs.gen_random_bytes(32));
revoke all on crs.customer_key_secret from public;

-- Existing orders: E.164 -> hex HMAC. The same expression as crs.customer_key_hashes in
-- sql/privacy.sql (written out here because a migration must not depend on a repeatable file,
-- which may change after this one is applied). This rewrites every order once; intake waits
-- on the table lock while it runs.
alter table crs.orders drop constraint orders_customer_key_check;
update crs.orders o
   set customer_key = encode(crs.hmac(convert_to(o.customer_key, 'UTF8'), k.secret, 'sha256'), 'hex')
  from crs.customer_key_secret k;
alter table crs.orders
  add constraint orders_customer_key_check check (customer_key ~ '^[0-9a-f]{64}$');
comment on column crs.orders.customer_key is
  'hex HMAC-SHA256 of the E.164 phone under crs.customer_key_secret: the customer, without the phone.';

-- 2. Purging. A purged order keeps its row (stock, coupon, one-per-customer and the audit
-- trail refer to it) with empty names and phone; the checks allow empty values only then.
alter table crs.orders
  add column purged_at timestamptz,
  drop constraint orders_first_name_check,
  drop constraint orders_last_name_check,
  drop constraint orders_phone_check,
  add constraint orders_first_name_check
    check (char_length(first_name) between 1 and 100 or purged_at is not null),
  add constraint orders_last_name_check
    check (char_length(last_name) between 1 and 100 or purged_at is not null),
  add constraint orders_phone_check
    check (char_length(phone) between 1 and 32 or purged_at is not null),
  add constraint orders_purged_has_no_personal_data
    check (purged_at is null or (first_name = '' and last_name = '' and phone = ''));

-- What the daily purge looks for, kept small: only orders not purged yet, and new orders
-- (status 'reserved') are in neither, so intake does not pay for them.
create index orders_purge_redeemed on crs.orders (redeemed_at)
  where purged_at is null and status = 'redeemed';
create index orders_purge_expired on crs.orders (voucher_stored_at)
  where purged_at is null and status = 'voucher_ready';

-- 3. The audit trail. Append-only for everyone but the owner: rows are inserted by the
-- security-definer functions that change stock or redeem, in the same transaction as the
-- change, so a change without its row cannot commit. Not in the CDC publication.
create table crs.audit_log (
  id             bigint generated always as identity primary key,
  -- The transaction's time, as redeemed_at and updated_at use.
  at             timestamptz not null default now(),
  -- Who: the role that acted ('system' for the database's own callers: migrations, scripts)
  -- and a non-secret identifier (a fingerprint of the bearer token, or the database user).
  actor_role     text not null check (actor_role in ('admin', 'staff', 'system')),
  actor_id       text not null check (actor_id ~ '^[A-Za-z0-9_.:@-]{1,64}$'),
  client_address inet,
  request_id     text check (request_id ~ '^[A-Za-z0-9._:-]{1,64}$'),
  -- A fingerprint of the page session (web sign-in), when the change came from a page.
  session_id     text check (session_id ~ '^[0-9a-f]{8,64}$'),
  -- The database login that made the call (crs_api for the API), whatever the caller claims.
  db_user        text not null default session_user,
  -- What: stock_set (crs.upsert_product) or redeem (crs.redeem_voucher), on which subject
  -- (a product id, an order id), and the details: the outcome, before and after.
  action         text not null check (action in ('stock_set', 'redeem')),
  subject        text not null check (char_length(subject) between 1 and 200),
  details        jsonb not null default '{}' check (jsonb_typeof(details) = 'object')
);
comment on table crs.audit_log is
  'Who changed stock or redeemed a coupon, when, and the outcome. Written only by the functions that do it.';
revoke all on crs.audit_log from public;
