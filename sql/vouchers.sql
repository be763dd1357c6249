-- Vouchers: what the renderer needs to draw one, recording it once stored, and redemption.

-- Everything printed on an order's voucher, or no row. The creation time is the order's, so
-- a re-render draws identical bytes.
create or replace function crs.voucher_render_data(p_order_id text)
returns table (
  order_id     text,
  product_id   text,
  product_name text,
  first_name   text,
  last_name    text,
  coupon_code  text,
  status       text,
  created_at   timestamptz
)
language sql
stable
security definer
set search_path = crs, pg_temp
as $$
  select o.order_id, o.product_id, p.name, o.first_name, o.last_name, o.coupon_code, o.status,
         o.created_at
    from crs.orders o
    join crs.products p using (product_id)
   where o.order_id = p_order_id;
$$;

-- Records that the order's voucher is stored under p_key: the order becomes voucher_ready.
-- Idempotent: recording again changes nothing; an order already redeemed stays redeemed.
-- Returns false when there is no such order.
create or replace function crs.record_voucher(p_order_id text, p_key text)
returns boolean
language plpgsql
security definer
set search_path = crs, pg_temp
as $$
begin
  update crs.orders o
     set voucher_key = p_key,
         voucher_stored_at = coalesce(o.voucher_stored_at, now()),
         status = case when o.status = 'reserved' then 'voucher_ready' else o.status end,
         updated_at = now()
   where o.order_id = p_order_id
     and (o.voucher_key is distinct from p_key or o.status = 'reserved');
  return found or exists (select from crs.orders o where o.order_id = p_order_id);
end
$$;

-- A coupon as staff see it, by its canonical code, or no row.
create or replace function crs.get_voucher(p_code text)
returns table (code text, order_id text, product_id text, status text, redeemed_at timestamptz)
language sql
stable
security definer
set search_path = crs, pg_temp
as $$
  select o.coupon_code, o.order_id, o.product_id, o.status, o.redeemed_at
    from crs.orders o
   where o.coupon_code = p_code;
$$;

-- A coupon as the staff desk shows it: whose it is (names, gone once purged), for which
-- product, its state, and for a redeemed one when and through which sign-in (the redeem entry
-- of the audit trail, by the index of migrations/000006_desk_and_search_indexes.sql).
create or replace function crs.get_desk_voucher(p_code text)
returns table (
  code             text,
  order_id         text,
  product_id       text,
  product_name     text,
  first_name       text,
  last_name        text,
  status           text,
  redeemed_at      timestamptz,
  redeemed_by      text,
  redeemed_actor   text,
  redeemed_session text
)
language sql
stable
security definer
set search_path = crs, pg_temp
as $$
  select o.coupon_code, o.order_id, o.product_id, p.name, o.first_name, o.last_name, o.status,
         o.redeemed_at, o.redeemed_by, a.actor_id, a.session_id
    from crs.orders o
    join crs.products p using (product_id)
    left join lateral (
      select l.actor_id, l.session_id
        from crs.audit_log l
       where l.action = 'redeem'
         and l.details ->> 'outcome' = 'redeemed'
         and l.details ->> 'orderId' = o.order_id
       order by l.id desc
       limit 1
    ) a on true
   where o.coupon_code = p_code;
$$;

-- Redeems a coupon once. The order row is locked, so of any number of concurrent calls for
-- one code exactly one gets 'redeemed'. Outcomes: redeemed, already_redeemed, cancelled,
-- not_found.
--
-- Every call appends one crs.audit_log entry (action redeem, subject the code as given) in the
-- same transaction: who (p_actor, see crs.write_audit; null for the database's own callers)
-- and the outcome with the order it concerns. Refusals and unknown codes are recorded too,
-- which shows guessing. The codes in the trail are spent or never existed, so they cannot be
-- redeemed by whoever reads it.

-- The signature gained p_actor; a default keeps two-argument calls working but both forms
-- cannot exist side by side.
drop function if exists crs.redeem_voucher(text, text);

create or replace function crs.redeem_voucher(
  p_code        text,
  p_redeemed_by text,
  p_actor       jsonb default null,
  out outcome   text,
  out order_id  text,
  out redeemed_at timestamptz
)
language plpgsql
security definer
set search_path = crs, pg_temp
set lock_timeout = '2s'
as $$
declare
  target crs.orders%rowtype;
begin
  select * into target from crs.orders o where o.coupon_code = p_code for update;
  if not found then
    outcome := 'not_found';
  else
    order_id := target.order_id;
    if target.status = 'redeemed' then
      outcome := 'already_redeemed';
      redeemed_at := target.redeemed_at;
    elsif target.status = 'cancelled' then
      outcome := 'cancelled';
    else
      update crs.orders o
         set status = 'redeemed', redeemed_at = now(), redeemed_by = p_redeemed_by, updated_at = now()
       where o.order_id = target.order_id
      returning o.redeemed_at into redeemed_at;
      outcome := 'redeemed';
    end if;
  end if;
  perform crs.write_audit(p_actor, 'redeem', left(p_code, 200), jsonb_build_object(
    'outcome', outcome, 'orderId', order_id, 'productId', target.product_id,
    'statusBefore', target.status, 'redeemedAt', redeemed_at, 'redeemedBy', p_redeemed_by));
end
$$;

revoke all on function crs.voucher_render_data(text) from public;
revoke all on function crs.record_voucher(text, text) from public;
revoke all on function crs.get_voucher(text) from public;
revoke all on function crs.redeem_voucher(text, text, jsonb) from public;
grant execute on function crs.voucher_render_data(text) to crs_renderer;
grant execute on function crs.record_voucher(text, text) to crs_renderer;
grant execute on function crs.get_voucher(text) to crs_api;
revoke all on function crs.get_desk_voucher(text) from public;
grant execute on function crs.get_desk_voucher(text) to crs_api;
grant execute on function crs.redeem_voucher(text, text, jsonb) to crs_api;
