-- crs:no-transaction
-- The staff desk shows who redeemed a coupon (crs.get_desk_voucher, sql/vouchers.sql): the
-- successful redeem entry of an order, found through this index, not by a scan of the whole
-- audit trail (one entry per redemption attempt). Built concurrently, so redemptions and stock
-- changes go on while it builds; each statement is safe to run again after a failure.
drop index concurrently if exists crs.audit_log_redeemed_order;

create index concurrently audit_log_redeemed_order
  on crs.audit_log ((details ->> 'orderId'))
  where action = 'redeem' and details ->> 'outcome' = 'redeemed';
