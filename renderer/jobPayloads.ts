/**
 * The boundary between the job queue and the tasks: a payload is JSON that SQL (or an
 * operator's graphile_worker.add_job) wrote, so a task checks it against its declared type
 * (types/graphile-worker-tasks.d.ts) before trusting it. A malformed payload is a
 * MalformedJobPayloadError: no retry can fix it (renderVoucherTask.ts retires the job).
 */
import { ORDER_ID } from '../common/identifiers.js';

export type RenderVoucherPayload = GraphileWorker.Tasks['render_voucher'];

export class MalformedJobPayloadError extends Error {
  override name = 'MalformedJobPayloadError';
  /** Stable: graphile-worker keeps it as the job's last_error, and alerts may match it. */
  readonly code = 'MALFORMED_JOB_PAYLOAD';
  constructor(
    readonly task: string,
    reason: string,
  ) {
    super(`MALFORMED_JOB_PAYLOAD: ${task} payload ${reason}`);
  }
}

/**
 * render_voucher's payload, checked. Fields the type does not know are ignored, so a payload
 * extended in SQL ahead of a renderer release still renders.
 */
export function parseRenderVoucherPayload(payload: unknown): RenderVoucherPayload {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new MalformedJobPayloadError('render_voucher', 'is not a JSON object');
  }
  const { orderId } = payload as Record<string, unknown>;
  if (typeof orderId !== 'string' || !ORDER_ID.test(orderId)) {
    throw new MalformedJobPayloadError('render_voucher', 'has no valid orderId');
  }
  return { orderId };
}
