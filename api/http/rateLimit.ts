/**
 * A fixed-window request limit per key (the client address), kept in this process. Each API
 * replica counts on its own, so the effective limit scales with replicas; a shared limit
 * across replicas needs a shared store (Redis) and comes with it.
 *
 * Memory is bounded: windows that ended are swept, and beyond maxKeys the oldest keys are
 * dropped first, so a flood of spoofed addresses cannot grow the map without end.
 */
import type { Context, Next } from 'koa';
import { AppError } from '../../common/errors.js';

export interface RateLimitOptions {
  /** Requests allowed per key in one window. */
  limit: number;
  windowMs: number;
  key: (ctx: Context) => string;
  maxKeys?: number;
  now?: () => number;
}

export function rateLimit(options: RateLimitOptions) {
  const windows = new Map<string, { count: number; resetAt: number }>();
  const maxKeys = options.maxKeys ?? 100_000;
  const now = options.now ?? Date.now;
  let nextSweep = now() + options.windowMs;

  function sweep(at: number) {
    for (const [key, window] of windows) if (window.resetAt <= at) windows.delete(key);
    nextSweep = at + options.windowMs;
  }

  return async function rateLimitMiddleware(ctx: Context, next: Next) {
    const at = now();
    if (at >= nextSweep) sweep(at);
    const key = options.key(ctx);
    let window = windows.get(key);
    if (!window || window.resetAt <= at) {
      if (windows.size >= maxKeys) {
        const oldest = windows.keys().next().value;
        if (oldest !== undefined) windows.delete(oldest);
      }
      window = { count: 0, resetAt: at + options.windowMs };
      windows.delete(key);
      windows.set(key, window);
    }
    window.count += 1;
    if (window.count > options.limit) {
      const retryAfter = Math.max(1, Math.ceil((window.resetAt - at) / 1000));
      throw new AppError('rate_limited', 'Too many requests; retry after Retry-After seconds.', {
        status: 429,
        headers: { 'Retry-After': String(retryAfter) },
      });
    }
    await next();
  };
}
