import type { Pool } from '../../common/db.js';
import type { Stock } from './stock.js';

/** crs.list_products (sql/admin.sql): every product's stock. */
export async function listProducts(pool: Pool): Promise<Stock[]> {
  const { rows } = await pool.query<{ product_id: string; name: string; total: number; remaining: number }>({
    name: 'list_products',
    text: 'select * from crs.list_products()',
  });
  return rows.map((row) => ({
    productId: row.product_id,
    name: row.name,
    total: row.total,
    remaining: row.remaining,
    available: row.remaining > 0,
  }));
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

/** crs.list_orders (sql/admin.sql): the newest orders of a product. */
export async function listOrders(pool: Pool, productId: string, limit: number): Promise<OrderSummary[]> {
  const { rows } = await pool.query<{
    order_id: string;
    product_id: string;
    status: string;
    customer: string | null;
    created_at: Date;
    redeemed_at: Date | null;
  }>({ name: 'list_orders', text: 'select * from crs.list_orders($1, $2)', values: [productId, limit] });
  return rows.map((row) => ({
    orderId: row.order_id,
    productId: row.product_id,
    status: row.status,
    customer: row.customer,
    createdAt: row.created_at,
    redeemedAt: row.redeemed_at,
  }));
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
