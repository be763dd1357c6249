/**
 * Reading request bodies strictly: the right media type, UTF-8 only, a byte limit enforced
 * while reading (a 10 MB body is refused without being buffered), then valid JSON (not nested
 * too deep, no key twice), or an HTML form's fields.
 */
import type { Context } from 'koa';
import getRawBody from 'raw-body';
import { AppError, invalidRequest } from '../common/errors.js';
import { parseStrictJson } from './strictJson.js';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export const payloadTooLarge = (limit: number) =>
  new AppError('payload_too_large', `The body is larger than ${limit} bytes.`, { status: 413 });

export const unsupportedMediaType = () =>
  new AppError('unsupported_media_type', 'Send the body as application/json in UTF-8.', {
    status: 415,
  });

/** The body as text: UTF-8 (declared or not), at most `limit` bytes. */
async function readUtf8Body(ctx: Context, limit: number): Promise<string> {
  const charset = ctx.request.charset;
  if (charset !== '' && charset.toLowerCase() !== 'utf-8' && charset.toLowerCase() !== 'utf8') {
    throw unsupportedMediaType();
  }
  // Nothing here decompresses: a "gzip" body would be read as if it were the JSON itself.
  const encoding = ctx.get('content-encoding').trim().toLowerCase();
  if (encoding !== '' && encoding !== 'identity') throw unsupportedMediaType();
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
  try {
    return utf8.decode(bytes);
  } catch {
    throw invalidRequest([{ field: 'body', message: 'is not valid UTF-8' }]);
  }
}

export async function readJsonBody(ctx: Context, limit: number): Promise<unknown> {
  if (!ctx.is('application/json')) throw unsupportedMediaType();
  // Not too deep, no repeated keys (strictJson.ts), then JSON.parse.
  return parseStrictJson(await readUtf8Body(ctx, limit));
}

/** Whether the request carries an HTML form (the web pages' posts). */
export const isFormPost = (ctx: Context) => typeof ctx.is('application/x-www-form-urlencoded') === 'string';

/**
 * An HTML form post (application/x-www-form-urlencoded): the same limits, and each field at
 * most once (a repeated field is refused rather than one copy silently winning).
 */
export async function readFormBody(ctx: Context, limit: number): Promise<Record<string, string>> {
  if (!isFormPost(ctx)) throw unsupportedMediaType();
  const text = await readUtf8Body(ctx, limit);
  const fields = Object.create(null) as Record<string, string>;
  for (const [name, value] of new URLSearchParams(text)) {
    if (Object.hasOwn(fields, name)) {
      throw invalidRequest([{ field: name, message: 'appears more than once' }]);
    }
    fields[name] = value;
  }
  return fields;
}
