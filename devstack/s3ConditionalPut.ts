/**
 * Conditional writes, which s3rver lacks and MinIO and S3 have: a PUT with `If-None-Match: *`
 * stores the object only if the key holds none, else it is answered 412 PreconditionFailed
 * and nothing is written (so no object-created notification either). The renderer stores
 * every voucher this way: a renderer that uploaded a voucher and was then cut off before it
 * could record it has its job taken over, and the second upload must not store and announce
 * the voucher again (renderVoucherTask.ts).
 *
 * Writes with the condition to one key are serialized here, so two at once cannot both find
 * the key empty. Unconditional writes are not held back (as on S3, the last one wins).
 */
import { access } from 'node:fs/promises';
import { answerS3Error, requestTarget, type GateContext } from './s3Gate.js';
import type { S3rverFiles } from './s3Metadata.js';

export function makeConditionalPut(files: S3rverFiles) {
  /** The conditional write running for each key, that the next one for the key waits for. */
  const tails = new Map<string, Promise<unknown>>();

  return async function conditionalPut(ctx: GateContext, next: () => Promise<unknown>) {
    const target = requestTarget(ctx.path);
    const condition = ctx.headers['if-none-match'];
    if (ctx.method !== 'PUT' || condition === undefined || !target?.bucket || !target.key) return next();
    if (condition !== '*') {
      // S3 accepts only "*" on a write (an ETag there is not supported).
      answerS3Error(ctx, 501, 'NotImplemented', 'If-None-Match on a write accepts only "*".');
      return;
    }
    const { bucket, key } = target;
    const name = `${bucket}/${key}`;
    const before = tails.get(name) ?? Promise.resolve();
    const run = before.then(async () => {
      const exists = await access(files.getResourcePath(bucket, key, 'object')).then(
        () => true,
        () => false,
      );
      if (exists) {
        answerS3Error(
          ctx,
          412,
          'PreconditionFailed',
          'At least one of the pre-conditions you specified did not hold',
        );
        return;
      }
      await next();
    });
    const tail = run.catch(() => undefined);
    tails.set(name, tail);
    try {
      await run;
    } finally {
      if (tails.get(name) === tail) tails.delete(name);
    }
  };
}
