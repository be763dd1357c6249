/**
 * Who sent a request to the local S3 store, and whether they hold the key's secret: AWS
 * Signature Version 4, in the Authorization header or in a presigned URL's query, checked as
 * MinIO checks it. s3rver checks version 2 signatures itself but takes any version 4 signature
 * for a known access key, which would make its keys names rather than secrets.
 *
 * Not checked, as s3rver does not either: the payload against x-amz-content-sha256, and the
 * chunk signatures of streaming uploads (their seed signature, over the headers, is).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export type Credentials =
  | { kind: 'anonymous' }
  /** Version 2 (header or query): s3rver verifies the signature; only the key is read here. */
  | { kind: 'v2'; accessKey: string }
  | {
      kind: 'v4';
      accessKey: string;
      /** date/region/service/aws4_request */
      scope: string;
      amzDate: string;
      signedHeaders: string[];
      signature: string;
      presigned: boolean;
    }
  | { kind: 'malformed'; reason: string };

export interface SignedRequest {
  method: string;
  /** The path as sent (percent-encoded), without the query. */
  path: string;
  /** The query string as sent, without '?'. */
  rawQuery: string;
  headers: Record<string, string | string[] | undefined>;
}

const header = (request: SignedRequest, name: string) => {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
};

/** The credentials a request carries (not yet verified). */
export function readCredentials(request: SignedRequest): Credentials {
  const query = new URLSearchParams(request.rawQuery);
  const authorization = header(request, 'authorization');
  const mechanisms = [authorization !== undefined, query.has('X-Amz-Algorithm'), query.has('Signature')];
  if (mechanisms.filter(Boolean).length === 0) return { kind: 'anonymous' };
  if (mechanisms.filter(Boolean).length > 1)
    return { kind: 'malformed', reason: 'more than one authentication' };
  if (authorization !== undefined) {
    const v2 = /^AWS ([^:\s]+):\S+$/.exec(authorization);
    if (v2) return { kind: 'v2', accessKey: v2[1] as string };
    const v4 = /^AWS4-HMAC-SHA256 (.*)$/.exec(authorization);
    if (!v4) return { kind: 'malformed', reason: 'unsupported Authorization' };
    const parts = new Map(
      (v4[1] as string).split(',').map((part) => {
        const [name = '', ...value] = part.trim().split('=');
        return [name, value.join('=')] as const;
      }),
    );
    return v4Credentials(
      parts.get('Credential'),
      header(request, 'x-amz-date'),
      parts.get('SignedHeaders'),
      parts.get('Signature'),
      false,
    );
  }
  if (query.has('Signature')) {
    const accessKey = query.get('AWSAccessKeyId');
    return accessKey ? { kind: 'v2', accessKey } : { kind: 'malformed', reason: 'no AWSAccessKeyId' };
  }
  if (query.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') {
    return { kind: 'malformed', reason: 'X-Amz-Algorithm must be AWS4-HMAC-SHA256' };
  }
  return v4Credentials(
    query.get('X-Amz-Credential') ?? undefined,
    query.get('X-Amz-Date') ?? undefined,
    query.get('X-Amz-SignedHeaders') ?? undefined,
    query.get('X-Amz-Signature') ?? undefined,
    true,
  );
}

function v4Credentials(
  credential: string | undefined,
  amzDate: string | undefined,
  signedHeaders: string | undefined,
  signature: string | undefined,
  presigned: boolean,
): Credentials {
  const scope = /^([^/]+)\/(\d{8}\/[^/]+\/[^/]+\/aws4_request)$/.exec(credential ?? '');
  if (!scope || !amzDate || !signedHeaders || !signature || !/^[0-9a-f]{64}$/.test(signature)) {
    return { kind: 'malformed', reason: 'incomplete version 4 credentials' };
  }
  return {
    kind: 'v4',
    accessKey: scope[1] as string,
    scope: scope[2] as string,
    amzDate,
    signedHeaders: signedHeaders.split(';'),
    signature,
    presigned,
  };
}

/** RFC 3986 encoding, as every S3 client signs it. */
const encode = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Decodes what can be decoded; a bad escape stays as it is (and fails the signature). */
const decode = (value: string) => {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
};

function canonicalRequest(request: SignedRequest, credentials: Extract<Credentials, { kind: 'v4' }>) {
  const path = request.path
    .split('/')
    .map((segment) => encode(decode(segment)))
    .join('/');
  const query = request.rawQuery
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const [name = '', ...value] = pair.split('=');
      return [encode(decode(name)), encode(decode(value.join('=')))] as const;
    })
    .filter(([name]) => !(credentials.presigned && name === 'X-Amz-Signature'))
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const headers = credentials.signedHeaders
    .map((name) => `${name}:${(header(request, name) ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const payload = credentials.presigned
    ? 'UNSIGNED-PAYLOAD'
    : (header(request, 'x-amz-content-sha256') ?? 'UNSIGNED-PAYLOAD');
  return [request.method, path, query, headers, credentials.signedHeaders.join(';'), payload].join('\n');
}

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** Whether a version 4 signature was made with `secretKey` over this request. */
export function verifyV4(
  request: SignedRequest,
  credentials: Extract<Credentials, { kind: 'v4' }>,
  secretKey: string,
): boolean {
  // The host must be signed, or a signature could be replayed against another endpoint.
  if (!credentials.signedHeaders.includes('host')) return false;
  const stringToSign = [
    'AWS4-HMAC-SHA256',
    credentials.amzDate,
    credentials.scope,
    createHash('sha256').update(canonicalRequest(request, credentials), 'utf8').digest('hex'),
  ].join('\n');
  const [date = '', region = '', service = ''] = credentials.scope.split('/');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secretKey}`, date), region), service), 'aws4_request');
  const expected = Buffer.from(hmac(signingKey, stringToSign).toString('hex'));
  const given = Buffer.from(credentials.signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
