import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import type { Pool } from '../common/db.js';
import type { Stock } from './stock.js';
import { ORDER_ID, normaliseCouponCode } from '../common/identifiers.js';

/** crs.products_page (sql/admin.sql): products by id with their stock, those after `after`. */
export async function productsPage(
  pool: Pool,
  options: { limit: number; after?: string | undefined },
): Promise<{ products: Stock[]; next: string | undefined }> {
  const { rows } = await pool.query<{ product_id: string; name: string; total: number; remaining: number }>({
    name: 'products_page',
    text: 'select * from crs.products_page($1, $2)',
    values: [options.after ?? null, options.limit],
  });
  const products = rows.map((row) => ({
    productId: row.product_id,
    name: row.name,
    total: row.total,
    remaining: row.remaining,
    available: row.remaining > 0,
  }));
  const last = products[products.length - 1];
  return { products, next: last && products.length >= options.limit ? last.productId : undefined };
}

export interface OrderSummary {
  orderId: string;
  productId: string;
  status: string;
  /** Shortened by the database: "Aino V. (…567)"; null once the personal data was purged. */
  customer: string | null;
  createdAt: Date;
  redeemedAt: Date | null;
}

interface OrderSummaryRow {
  order_id: string;
  product_id: string;
  status: string;
  customer: string | null;
  created_at: Date;
  redeemed_at: Date | null;
}

const toSummary = (row: OrderSummaryRow): OrderSummary => ({
  orderId: row.order_id,
  productId: row.product_id,
  status: row.status,
  customer: row.customer,
  createdAt: row.created_at,
  redeemedAt: row.redeemed_at,
});

/**
 * Where a page of orders ends: the next page starts after it. The time is Postgres's own text
 * (microseconds): a JavaScript Date keeps milliseconds, and a cursor rounded to them would
 * skip the orders of the same millisecond.
 */
export interface OrderCursor {
  createdAt: string;
  orderId: string;
}

/** crs.orders_page (sql/admin.sql): a product's orders, newest first, those before `before`. */
export async function ordersPage(
  pool: Pool,
  productId: string,
  options: { limit: number; before?: OrderCursor | undefined },
): Promise<{ orders: OrderSummary[]; next: OrderCursor | undefined }> {
  const { rows } = await pool.query<OrderSummaryRow & { created_key: string }>({
    name: 'orders_page',
    text: 'select *, created_at::text as created_key from crs.orders_page($1, $2, $3::timestamptz, $4)',
    values: [productId, options.limit, options.before?.createdAt ?? null, options.before?.orderId ?? null],
  });
  const last = rows[rows.length - 1];
  return {
    orders: rows.map(toSummary),
    next:
      last && rows.length >= options.limit
        ? { createdAt: last.created_key, orderId: last.order_id }
        : undefined,
  };
}

/** What a search text could be: each key the database looks up at once. */
export interface OrderSearch {
  orderId: string | null;
  couponCode: string | null;
  /** The phone as E.164, as stored. */
  phone: string | null;
  /** A part of "first last", lowercased; at least 3 characters. */
  name: string | null;
}

/** Reads a search text as every key it could be: an order id, a coupon code, a phone, a name. */
export function parseOrderSearch(text: string, defaultCountry: string): OrderSearch | undefined {
  const query = text.normalize('NFC').trim().slice(0, 100);
  if (query === '') return undefined;
  const phone = /^[+0-9 ().-]{6,32}$/.test(query)
    ? parsePhoneNumberFromString(query, defaultCountry as CountryCode)
    : undefined;
  const name = query.toLowerCase().replace(/\s+/g, ' ');
  return {
    orderId: ORDER_ID.test(query) ? query : null,
    couponCode: normaliseCouponCode(query) ?? null,
    phone: phone?.isValid() ? phone.number : null,
    name: [...name].length >= 3 && /\p{L}/u.test(name) ? name : null,
  };
}

export interface FoundOrder extends OrderSummary {
  couponCode: string;
}

/** crs.search_orders (sql/admin.sql): the orders any key of the search finds, newest first. */
export async function searchOrders(pool: Pool, search: OrderSearch, limit: number): Promise<FoundOrder[]> {
  const { rows } = await pool.query<OrderSummaryRow & { coupon_code: string }>({
    name: 'search_orders',
    text: 'select * from crs.search_orders($1, $2, $3, $4, $5)',
    values: [search.orderId, search.couponCode, search.phone, search.name, limit],
  });
  return rows.map((row) => ({ ...toSummary(row), couponCode: row.coupon_code }));
}

/** The pipeline panel's figures (crs.pipeline_status). */
export interface PipelineStatus {
  /** Orders of the product per minute, oldest first, the current minute last. */
  ordersPerMinute: number[];
  /** How far the CDC's slot is behind the WAL; null when there is no slot. */
  replicationLagBytes: number | null;
  renderJobsWaiting: number;
  vouchersLastMinute: number;
  /** Age of the oldest order still without a voucher; null when none waits. */
  oldestWithoutVoucherSeconds: number | null;
}

export async function pipelineStatus(
  pool: Pool,
  productId: string,
  minutes: number,
): Promise<PipelineStatus> {
  const { rows } = await pool.query<{
    orders_per_minute: string[];
    replication_lag_bytes: string | null;
    render_jobs_waiting: string;
    vouchers_last_minute: string;
    oldest_without_voucher_secs: number | null;
  }>({
    name: 'pipeline_status',
    text: 'select * from crs.pipeline_status($1, $2)',
    values: [productId, minutes],
  });
  const row = rows[0];
  // bigint arrives as text; these counts stay far below 2^53.
  return {
    ordersPerMinute: (row?.orders_per_minute ?? []).map(Number),
    replicationLagBytes: row?.replication_lag_bytes == null ? null : Number(row.replication_lag_bytes),
    renderJobsWaiting: Number(row?.render_jobs_waiting ?? 0),
    vouchersLastMinute: Number(row?.vouchers_last_minute ?? 0),
    oldestWithoutVoucherSeconds: row?.oldest_without_voucher_secs ?? null,
  };
}

export interface ExportedOrder {
  orderId: string;
  status: string;
  firstName: string | null;
  lastName: string | null;
  phone: string | null;
  couponCode: string;
  createdAt: Date;
  voucherStoredAt: Date | null;
  redeemedAt: Date | null;
}

/**
 * crs.export_orders (sql/admin.sql), page after page, oldest first: a product's every order
 * with its details, without holding more than one page.
 */
export async function* exportOrders(
  pool: Pool,
  productId: string,
  pageSize = 2_000,
): AsyncGenerator<ExportedOrder[]> {
  let after: OrderCursor | undefined;
  for (;;) {
    const { rows } = await pool.query<{
      order_id: string;
      status: string;
      first_name: string | null;
      last_name: string | null;
      phone: string | null;
      coupon_code: string;
      created_at: Date;
      voucher_stored_at: Date | null;
      redeemed_at: Date | null;
      created_key: string;
    }>({
      name: 'export_orders',
      text: 'select *, created_at::text as created_key from crs.export_orders($1, $2::timestamptz, $3, $4)',
      values: [productId, after?.createdAt ?? null, after?.orderId ?? null, pageSize],
    });
    if (rows.length === 0) return;
    yield rows.map((row) => ({
      orderId: row.order_id,
      status: row.status,
      firstName: row.first_name,
      lastName: row.last_name,
      phone: row.phone,
      couponCode: row.coupon_code,
      createdAt: row.created_at,
      voucherStoredAt: row.voucher_stored_at,
      redeemedAt: row.redeemed_at,
    }));
    const last = rows[rows.length - 1]!;
    after = { createdAt: last.created_key, orderId: last.order_id };
    if (rows.length < pageSize) return;
  }
}

/**
 * Who acts, for the audit trail: passed to the SQL functions that change stock or redeem
 * (their p_actor, see sql/audit.sql), which record it with the change. Built from a request by
 * api/admin/auditActor.ts. Never a secret: `id` is a fingerprint, not the token.
 */
export interface AuditActor {
  role: 'admin' | 'staff';
  id: string;
  address?: string;
  requestId?: string;
  session?: string;
}

export interface AuditEntry {
  id: number;
  at: Date;
  actor: {
    role: string;
    id: string;
    address: string | null;
    requestId: string | null;
    session: string | null;
    /** The database login that made the call. */
    dbUser: string;
  };
  action: string;
  subject: string;
  details: Record<string, unknown>;
}

/** crs.read_audit_log (sql/admin.sql): the newest entries, those before an id when given. */
export async function readAuditLog(
  pool: Pool,
  options: { limit: number; before?: number | undefined },
): Promise<AuditEntry[]> {
  const { rows } = await pool.query<{
    id: string;
    at: Date;
    actor_role: string;
    actor_id: string;
    client_address: string | null;
    request_id: string | null;
    session_id: string | null;
    db_user: string;
    action: string;
    subject: string;
    details: Record<string, unknown>;
  }>({
    name: 'read_audit_log',
    text: 'select * from crs.read_audit_log($1, $2)',
    values: [options.limit, options.before ?? null],
  });
  return rows.map((row) => ({
    // bigint arrives as a string; identity ids stay far below 2^53.
    id: Number(row.id),
    at: row.at,
    actor: {
      role: row.actor_role,
      id: row.actor_id,
      address: row.client_address,
      requestId: row.request_id,
      session: row.session_id,
      dbUser: row.db_user,
    },
    action: row.action,
    subject: row.subject,
    details: row.details,
  }));
}
