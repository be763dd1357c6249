-- Personal data: the customer key as a keyed hash of the phone, and the purge that removes
-- names and phone numbers once an order no longer needs them (migrations/000004).

-- The customer keys of a batch: hex HMAC-SHA256 of each E.164 phone under the database's own
-- key (crs.customer_key_secret), in the order given. The same phone always gives the same key,
-- so one order per customer per product holds on the key alone, before and after a purge.
-- Anything that is not E.164 is refused, as the column's check did while it held the phone.
-- Called once per crs.place_orders call: one key read and one array operation for the batch.
create or replace function crs.customer_key_hashes(p_phones text[])
returns text[]
language plpgsql
stable
set search_path = crs, pg_temp
as $$
declare
  hmac_key bytea;
begin
  if exists (select from unnest(p_phones) as u(phone) where u.phone !~ '^\+[1-9][0-9]{6,14}$') then
    raise exception 'a customer key must be a phone number in E.164 form'
      using errcode = 'check_violation';
  end if;
  select k.secret into strict hmac_key from crs.customer_key_secret k;
  -- Keep this expression in step with the rehash in migrations/000004_privacy_and_audit.sql.
  return array(select encode(hmac(convert_to(u.phone, 'UTF8'), hmac_key, 'sha256'), 'hex')
                 from unnest(p_phones) with ordinality as u(phone, i)
                order by u.i);
end
$$;

-- One customer's key, for the owner's own queries ("has this phone ordered?") and tests.
create or replace function crs.customer_key_hash(p_phone text)
returns text
language sql
stable
set search_path = crs, pg_temp
as $$
  select (crs.customer_key_hashes(array[p_phone]))[1];
$$;

-- Removes the names and the phone of at most p_limit orders whose voucher was redeemed more
-- than p_after_days days ago, or expired (stored more than p_voucher_expiry_days days ago,
-- when the bucket's lifecycle rule deletes it: VOUCHER_EXPIRY_DAYS) more than p_after_days
-- days ago. The row stays: its customer key (a hash) keeps one-per-customer, its coupon and
-- status keep redemption answering, purged_at says when. Returns how many orders were purged;
-- fewer than p_limit means nothing more is due now.
--
-- Idempotent (purged orders are not selected again) and safe next to live traffic: rows
-- another transaction holds (a redemption in progress) are skipped and come up next time, and
-- the conditions are checked again on the locked row. Orders still waiting for their voucher,
-- and cancelled ones, are kept.
--
-- Note for change-data-capture consumers: a purge is an UPDATE of crs.orders (status
-- unchanged, purged_at set).
create or replace function crs.purge_personal_data(
  p_after_days          integer,
  p_voucher_expiry_days integer,
  p_limit               integer
)
returns integer
language plpgsql
security definer
set search_path = crs, pg_temp
set lock_timeout = '5s'
as $$
declare
  redeemed_before timestamptz;
  stored_before   timestamptz;
  purged          integer;
begin
  if p_after_days is null or p_after_days < 0
     or p_voucher_expiry_days is null or p_voucher_expiry_days < 1
     or p_limit is null or p_limit not between 1 and 10000 then
    raise exception 'purge_personal_data(after_days >= 0, voucher_expiry_days >= 1, limit 1..10000)'
      using errcode = '22023';
  end if;
  redeemed_before := now() - make_interval(days => p_after_days);
  stored_before := now() - make_interval(days => p_voucher_expiry_days + p_after_days);

  -- Each arm of the OR matches one of the partial indexes orders_purge_redeemed and
  -- orders_purge_expired, so this reads only what is due.
  with due as (
    select o.order_id
      from crs.orders o
     where o.purged_at is null
       and ((o.status = 'redeemed' and o.redeemed_at < redeemed_before)
            or (o.status = 'voucher_ready' and o.voucher_stored_at < stored_before))
     limit p_limit
       for update skip locked
  )
  update crs.orders o
     set first_name = '', last_name = '', phone = '', purged_at = now(), updated_at = now()
    from due
   where o.order_id = due.order_id;
  get diagnostics purged = row_count;
  return purged;
end
$$;

revoke all on function crs.customer_key_hashes(text[]) from public;
revoke all on function crs.customer_key_hash(text) from public;
revoke all on function crs.purge_personal_data(integer, integer, integer) from public;
-- The renderer process runs the daily purge (renderer/purgePersonalData.ts).
grant execute on function crs.purge_personal_data(integer, integer, integer) to crs_renderer;
