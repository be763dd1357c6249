/**
 * Typed errors with stable codes. Every boundary (HTTP, CLI, config, queues) turns failures
 * into one of these; one renderer per boundary decides what the outside may see.
 */

/** The stable error codes of the public contract (CONTRACT.md), plus internal_error. */
export type ErrorCode =
  | 'invalid_request'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'request_timeout'
  | 'headers_too_large'
  | 'expectation_failed'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'out_of_stock'
  | 'duplicate_customer'
  | 'order_id_conflict'
  | 'below_reserved'
  | 'already_redeemed'
  | 'rate_limited'
  | 'unavailable'
  | 'internal_error';

/** One problem with one field of a request: what the contract calls `details`. */
export interface FieldProblem {
  field: string;
  message: string;
}

export interface AppErrorOptions {
  status: number;
  details?: unknown;
  /** Extra response headers, e.g. Retry-After. */
  headers?: Record<string, string>;
  /** Whether the message may be shown to a client. Internal errors never are. */
  expose?: boolean;
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;
  readonly headers: Record<string, string>;
  readonly expose: boolean;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions) {
    super(message, { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = options.status;
    this.details = options.details;
    this.headers = options.headers ?? {};
    this.expose = options.expose ?? options.status < 500;
  }
}

/** Normalises anything thrown into an Error, so logs always get a message and a stack. */
export function coerceError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  return new Error(typeof thrown === 'string' ? thrown : JSON.stringify(thrown));
}

export const invalidRequest = (details: FieldProblem[], message = 'The request is not valid.') =>
  new AppError('invalid_request', message, { status: 400, details });

export const unauthorized = () =>
  new AppError('unauthorized', 'Missing or wrong credentials.', {
    status: 401,
    headers: { 'WWW-Authenticate': 'Bearer' },
  });

export const forbidden = (message: string) => new AppError('forbidden', message, { status: 403 });

export const notFound = (what = 'resource') => new AppError('not_found', `No such ${what}.`, { status: 404 });

export const unavailable = (cause: unknown, retryAfterSeconds = 1) =>
  new AppError('unavailable', 'The service cannot decide now; nothing was written. Retry later.', {
    status: 503,
    headers: { 'Retry-After': String(retryAfterSeconds) },
    expose: true,
    cause,
  });
