/**
 * The local S3 store's gate, a Koa middleware run before s3rver's routes: every request is
 * answered as MinIO would answer it, before s3rver touches a file:
 *   - writes refused (503 SlowDown) while the fault switch is on (fault injection: the object
 *     store refusing writes), reads served;
 *   - bucket names and object keys that are not valid S3 names refused (s3rver would turn a
 *     key with a '..' segment into a file outside its bucket);
 *   - anonymous requests refused, an unknown key refused, a version 4 signature verified;
 *   - the key's policy applied to the request's action and resource (AccessDenied otherwise).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../common/log.js';
import { isAllowed, requiredActions, type PolicyDocument } from './s3Policy.js';
import { readCredentials, verifyV4 } from './s3Signature.js';

export interface StoreKey {
  /** For logs: admin, api, renderer. */
  role: string;
  accessKey: string;
  secretKey: string;
  policy: PolicyDocument;
}

/** What the middleware reads and writes of s3rver's (Koa 2) context. */
export interface GateContext {
  method: string;
  path: string;
  querystring: string;
  headers: Record<string, string | string[] | undefined>;
  status: number;
  body: unknown;
  type: string;
  set(name: string, value: string): void;
}

export interface S3Gate {
  middleware(ctx: GateContext, next: () => Promise<unknown>): Promise<unknown>;
  /**
   * The access key of the request being served, for what s3rver does on its behalf (its
   * object-created event is emitted inside the request): MinIO names it as the event's
   * principalId. Undefined outside a request that passed the gate.
   */
  requester(): string | undefined;
  /** Refuses object writes (PUT, POST) with 503 SlowDown for `ms` from now. */
  refuseWrites(ms: number): void;
  writesRefused(): boolean;
  close(): void;
}

const escapeXml = (text: string) =>
  text
    .replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`)
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * The bucket and key of a path-style request (decoded), as s3rver's router reads them; a path
 * of a bucket alone ends with no key, `/bucket/` with key ''. Undefined when undecodable.
 */
export function requestTarget(path: string): { bucket?: string; key?: string } | undefined {
  const [, rawBucket = '', ...rawKey] = path.split('/');
  try {
    return {
      ...(rawBucket !== '' && { bucket: decodeURIComponent(rawBucket) }),
      ...(rawKey.length > 0 && { key: decodeURIComponent(rawKey.join('/')) }),
    };
  } catch {
    return undefined;
  }
}

/** Answers with an S3 error document, as MinIO and S3 do (the client reads its Code). */
export function answerS3Error(ctx: GateContext, status: number, code: string, message: string) {
  const requestId = randomBytes(8).toString('hex').toUpperCase();
  ctx.status = status;
  ctx.type = 'application/xml';
  ctx.set('x-amz-request-id', requestId);
  ctx.body =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message>` +
    `<Resource>${escapeXml(ctx.path)}</Resource><RequestId>${requestId}</RequestId></Error>`;
}

export function makeS3Gate(options: { keys: StoreKey[]; log: Logger }): S3Gate {
  const { log } = options;
  const keys = new Map(options.keys.map((key) => [key.accessKey, key]));
  const requests = new AsyncLocalStorage<string>();
  let refuseUntil = 0;
  let refusalEnds: NodeJS.Timeout | undefined;

  const writesRefused = () => Date.now() < refuseUntil;

  return {
    writesRefused,
    requester: () => requests.getStore(),
    refuseWrites(ms) {
      const wasRefusing = writesRefused();
      refuseUntil = Date.now() + ms;
      clearTimeout(refusalEnds);
      refusalEnds = setTimeout(() => log.warn('object store fault over: accepting writes again'), ms);
      refusalEnds.unref();
      log.warn(
        { ms, until: new Date(refuseUntil).toISOString(), extended: wasRefusing },
        'object store fault: refusing writes (503 SlowDown), serving reads',
      );
    },
    close() {
      clearTimeout(refusalEnds);
    },
    async middleware(ctx, next) {
      if ((ctx.method === 'PUT' || ctx.method === 'POST') && writesRefused()) {
        return answerS3Error(ctx, 503, 'SlowDown', 'Please reduce your request rate.');
      }
      // CORS preflight carries no credentials, in S3 too; it reads and changes nothing.
      if (ctx.method === 'OPTIONS') return next();

      const copy = ctx.headers['x-amz-copy-source'];
      const copySource = typeof copy === 'string' ? copy : undefined;
      const target = requestTarget(ctx.path);
      let copiedKey: string | undefined;
      try {
        if (!target) throw new URIError(ctx.path);
        copiedKey =
          copySource && decodeURIComponent(copySource.split('?')[0] ?? '').replace(/^\/?[^/]*\/?/, '');
      } catch {
        return answerS3Error(ctx, 400, 'InvalidURI', 'Could not parse the specified URI.');
      }
      const { bucket, key } = target;
      if (bucket !== undefined && (!BUCKET_NAME.test(bucket) || bucket.includes('..'))) {
        return answerS3Error(ctx, 400, 'InvalidBucketName', 'The specified bucket is not valid.');
      }
      for (const name of [key, copiedKey]) {
        if (name && (name.split('/').some((s) => s === '.' || s === '..') || /[\u0000\\]/.test(name))) {
          return answerS3Error(
            ctx,
            400,
            'XMinioInvalidObjectName',
            'Object name contains unsupported characters.',
          );
        }
      }

      const request = {
        method: ctx.method,
        path: ctx.path,
        rawQuery: ctx.querystring,
        headers: ctx.headers,
      };
      const credentials = readCredentials(request);
      if (credentials.kind === 'anonymous') {
        return answerS3Error(ctx, 403, 'AccessDenied', 'Access Denied.');
      }
      if (credentials.kind === 'malformed') {
        return answerS3Error(ctx, 400, 'AuthorizationHeaderMalformed', credentials.reason);
      }
      const holder = keys.get(credentials.accessKey);
      if (!holder) {
        return answerS3Error(
          ctx,
          403,
          'InvalidAccessKeyId',
          'The Access Key Id you provided does not exist in our records.',
        );
      }
      if (credentials.kind === 'v4' && !verifyV4(request, credentials, holder.secretKey)) {
        log.warn(
          { role: holder.role, method: ctx.method, path: ctx.path },
          'request with a wrong signature refused',
        );
        return answerS3Error(
          ctx,
          403,
          'SignatureDoesNotMatch',
          'The request signature we calculated does not match the signature you provided.',
        );
      }
      const needed = requiredActions({
        method: ctx.method,
        bucket,
        key,
        query: new URLSearchParams(ctx.querystring),
        copySource,
      });
      const denied = needed.find((request) => !isAllowed(holder.policy, request));
      if (denied) {
        log.warn({ role: holder.role, ...denied }, 'request denied by policy');
        return answerS3Error(ctx, 403, 'AccessDenied', 'Access Denied.');
      }
      await requests.run(holder.accessKey, next);
      // The path, never the query: a presigned URL's query is a credential.
      log.debug({ role: holder.role, method: ctx.method, path: ctx.path, status: ctx.status }, 'request');
    },
  };
}
