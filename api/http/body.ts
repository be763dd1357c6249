/**
 * Reading a JSON request body strictly: the right media type, UTF-8 only, a byte limit
 * enforced while reading (a 10 MB body is refused without being buffered), valid JSON.
 */
import type { Context } from 'koa';
import getRawBody from 'raw-body';
import { AppError, invalidRequest } from '../../common/errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export const payloadTooLarge = (limit: number) =>
  new AppError('payload_too_large', `The body is larger than ${limit} bytes.`, { status: 413 });

export const unsupportedMediaType = () =>
  new AppError('unsupported_media_type', 'Send the body as application/json in UTF-8.', {
    status: 415,
  });

export async function readJsonBody(ctx: Context, limit: number): Promise<unknown> {
  if (!ctx.is('application/json')) throw unsupportedMediaType();
  const charset = ctx.request.charset;
  if (charset !== '' && charset.toLowerCase() !== 'utf-8' && charset.toLowerCase() !== 'utf8') {
    throw unsupportedMediaType();
  }
  let bytes: Buffer;
  try {
    bytes = await getRawBody(ctx.req, {
      limit,
      length: ctx.get('content-length') || undefined,
    });
  } catch (err) {
    const type = (err as { type?: string }).type;
    if (type === 'entity.too.large') throw payloadTooLarge(limit);
    if (type === 'request.size.invalid' || type === 'request.aborted') {
      throw invalidRequest([{ field: 'body', message: 'the body ended before its declared length' }]);
    }
    throw err;
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw invalidRequest([{ field: 'body', message: 'is not valid UTF-8' }]);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw invalidRequest([{ field: 'body', message: `is not valid JSON (${(err as Error).message})` }]);
  }
}
