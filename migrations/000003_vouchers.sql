-- 000003: vouchers. Where an order's voucher is stored, and its redemption.

alter table crs.orders
  -- Object key of the stored voucher PDF in the vouchers bucket; set by record_voucher.
  add column voucher_key       text check (voucher_key ~ '^[A-Za-z0-9_./-]{1,200}$'),
  add column voucher_stored_at timestamptz,
  add column redeemed_at       timestamptz,
  -- Who redeemed it (the staff member's name or id as the staff client sent it).
  add column redeemed_by       text check (char_length(redeemed_by) between 1 and 100),
  add constraint orders_voucher_ready_has_key
    check (status not in ('voucher_ready') or voucher_key is not null),
  add constraint orders_redeemed_has_time
    check (status <> 'redeemed' or redeemed_at is not null);
