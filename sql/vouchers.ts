import type { Pool } from '../common/db.js';
import type { AuditActor } from './admin.js';

export interface VoucherLookup {
  code: string;
  orderId: string;
  productId: string;
  status: string;
  redeemedAt: Date | null;
}

/** crs.get_voucher (sql/vouchers.sql): a coupon by its normalised code. */
export async function lookupVoucher(pool: Pool, code: string): Promise<VoucherLookup | undefined> {
  const { rows } = await pool.query<{
    code: string;
    order_id: string;
    product_id: string;
    status: string;
    redeemed_at: Date | null;
  }>({ name: 'get_voucher', text: 'select * from crs.get_voucher($1)', values: [code] });
  const row = rows[0];
  return (
    row && {
      code: row.code,
      orderId: row.order_id,
      productId: row.product_id,
      status: row.status,
      redeemedAt: row.redeemed_at,
    }
  );
}

/** A coupon as the staff desk shows it (crs.get_desk_voucher): whose, for what, redeemed by whom. */
export interface DeskVoucher extends VoucherLookup {
  productName: string;
  /** Null once personal data was purged (PII_RETENTION_DAYS). */
  customerName: string | null;
  /** Who redeemed it: the role, and the sign-in (token fingerprint, page session) it used. */
  redeemedBy: { role: string; actor: string | null; session: string | null } | null;
}

export async function lookupDeskVoucher(pool: Pool, code: string): Promise<DeskVoucher | undefined> {
  const { rows } = await pool.query<{
    code: string;
    order_id: string;
    product_id: string;
    product_name: string;
    first_name: string | null;
    last_name: string | null;
    status: string;
    redeemed_at: Date | null;
    redeemed_by: string | null;
    redeemed_actor: string | null;
    redeemed_session: string | null;
  }>({ name: 'get_desk_voucher', text: 'select * from crs.get_desk_voucher($1)', values: [code] });
  const row = rows[0];
  if (!row) return undefined;
  const names = [row.first_name, row.last_name].filter((name) => name !== null && name !== '');
  return {
    code: row.code,
    orderId: row.order_id,
    productId: row.product_id,
    productName: row.product_name,
    customerName: names.length > 0 ? names.join(' ') : null,
    status: row.status,
    redeemedAt: row.redeemed_at,
    redeemedBy: row.redeemed_by
      ? { role: row.redeemed_by, actor: row.redeemed_actor, session: row.redeemed_session }
      : null,
  };
}

export interface RedeemResult {
  outcome: 'redeemed' | 'already_redeemed' | 'cancelled' | 'not_found';
  orderId: string | null;
  redeemedAt: Date | null;
}

/**
 * crs.redeem_voucher (sql/vouchers.sql): marks a coupon used, once. The database records the
 * attempt, with `actor`, in the audit trail.
 */
export async function redeemVoucher(
  pool: Pool,
  code: string,
  by: string,
  actor: AuditActor,
): Promise<RedeemResult> {
  const { rows } = await pool.query<{ outcome: string; order_id: string | null; redeemed_at: Date | null }>({
    name: 'redeem_voucher',
    text: 'select * from crs.redeem_voucher($1, $2, $3)',
    values: [code, by, actor],
  });
  const row = rows[0];
  if (!row) return { outcome: 'not_found', orderId: null, redeemedAt: null };
  return {
    outcome: row.outcome as RedeemResult['outcome'],
    orderId: row.order_id,
    redeemedAt: row.redeemed_at,
  };
}
