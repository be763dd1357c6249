/**
 * GET /api/admin/audit (admin token): the audit trail, newest first, in pages of `limit`
 * entries; `before` is the `nextBefore` of the previous page. The trail itself is written by
 * the database functions that change stock and redeem coupons (sql/audit.sql).
 */
import type { Router } from '@koa/router';
import { z } from 'zod';
import { readAuditLog, type AuditEntry } from '../../sql/admin.js';
import type { ApiDeps } from '../deps.js';
import { requireToken } from '../../http/auth.js';
import { parseParams, takesParameters, type ParameterSchemas } from '../../http/validate.js';

export const AUDIT_PAGE_MAX = 500;
const AUDIT_PAGE_DEFAULT = 50;

/** Text on the wire, an integer to the route and in the document (the pipe's output). */
const wholeNumber = (max: number) => {
  // min(1) never fails after the pattern: it tells the document.
  const integer = z
    .int()
    .min(1)
    .max(max, { message: `must be at most ${max}` });
  return z
    .string({ error: 'must be given once, as a whole number' })
    .regex(/^[1-9]\d{0,14}$/, { message: 'must be a whole number from 1' })
    .transform(Number)
    .pipe(integer);
};

export const auditQuerySchema = z.strictObject({
  limit: wholeNumber(AUDIT_PAGE_MAX).default(AUDIT_PAGE_DEFAULT).describe('Entries per page'),
  before: wholeNumber(Number.MAX_SAFE_INTEGER)
    .optional()
    .describe('Only entries with a smaller id: the nextBefore of the previous page'),
});

export const auditParameters: ParameterSchemas = { query: auditQuerySchema };

/** One entry as the API shows it: absent rather than null fields. */
export function auditEntryJson(entry: AuditEntry) {
  const { address, requestId, session, ...actor } = entry.actor;
  return {
    id: entry.id,
    at: entry.at.toISOString(),
    actor: {
      ...actor,
      ...(address ? { address } : {}),
      ...(requestId ? { requestId } : {}),
      ...(session ? { session } : {}),
    },
    action: entry.action,
    subject: entry.subject,
    details: entry.details,
  };
}

export function addAuditRoutes(router: Router, deps: ApiDeps): void {
  router.get(
    '/api/admin/audit',
    requireToken(deps, 'admin'),
    takesParameters(auditParameters, async (ctx) => {
      const { limit, before } = parseParams(auditQuerySchema, ctx.query);
      const entries = await readAuditLog(deps.pool, { limit, before });
      const last = entries[entries.length - 1];
      ctx.set('Cache-Control', 'no-store');
      ctx.body = {
        entries: entries.map(auditEntryJson),
        ...(last && entries.length === limit ? { nextBefore: last.id } : {}),
      };
    }),
  );
}
