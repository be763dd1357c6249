/**
 * The one place that decides what a client sees of a failure. Every error leaves as
 * {"error": {"code", "message", "details"?}} with a stable code; internal details (causes,
 * stacks, SQL) go to the log only.
 */
import type { Context, Next } from 'koa';
import { AppError, coerceError, unavailable } from '../common/errors.js';
import { isRetryable } from '../common/db.js';
import type { Logger } from '../common/log.js';

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

export function errorBody(err: AppError): ErrorBody {
  return {
    error: {
      code: err.code,
      message: err.message,
      ...(err.details === undefined ? {} : { details: err.details }),
    },
  };
}

/** Turns whatever was thrown into the AppError a client may see. */
export function toAppError(thrown: unknown): AppError {
  if (thrown instanceof AppError) return thrown;
  if (isRetryable(thrown)) {
    return unavailable(thrown);
  }
  return new AppError('internal_error', 'Something went wrong on our side.', {
    status: 500,
    expose: false,
    cause: thrown,
  });
}

export function renderErrors() {
  return async function renderErrorsMiddleware(ctx: Context, next: Next) {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new AppError('not_found', 'No such route.', { status: 404 });
      }
    } catch (thrown) {
      const err = toAppError(thrown);
      // Read only when something is logged: the request's logger is made on first use.
      const log = () => ctx.state['log'] as Logger | undefined;
      if (err.status >= 500) {
        log()?.error({ err: coerceError(err.cause ?? err), code: err.code }, 'request failed');
      }
      ctx.status = err.status;
      ctx.set(err.headers);
      // A page's request (a form post, an htmx call) gets the same error as HTML.
      const renderError = ctx.state['renderError'] as
        ((ctx: Context, err: AppError) => Promise<void>) | undefined;
      ctx.body = errorBody(err);
      if (renderError) {
        try {
          await renderError(ctx, err);
        } catch (failed) {
          // The JSON body stays: better than no answer.
          log()?.error({ err: coerceError(failed) }, 'rendering an error page failed');
        }
      }
    }
  };
}
